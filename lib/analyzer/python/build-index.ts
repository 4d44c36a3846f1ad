import type { ModelRegistry } from "../flow/models.ts";
import { solveSummaries } from "../flow/summaries.ts";
import type { AnalyzeOptions, SourceInput } from "../types.ts";
import type { ModuleFacts, PyBinding, PySummary, PythonIndex } from "./flow/index-types.ts";
import { lowerFunction } from "./flow/lower.ts";
import { ModuleResolver, pythonRegistry, staticVal } from "./flow/resolve.ts";
import { summarize } from "./flow/summarize.ts";
import { parsePython, type SyntaxNode } from "./parse.ts";

// Cross-file facts, computed once per scan over every Python file: what each module
// binds (sessionmaker instances, engines, project functions and classes), which
// attributes and subscript keys hold factories, and a summary of every project function
// that touches resources, solved to a fixpoint across modules. This is what separates
// Poolguard from a grep: `from app.db import get_conn` makes every caller of get_conn()
// an acquirer because app/db.py's get_conn returns engine.connect().
//
// Only files that can define something are parsed: a required-literal prefilter (model
// packages, conventional names, configured names; then, round by round, the names the
// previous rounds found) skips the rest.

export type { ModuleFacts, PythonIndex } from "./flow/index-types.ts";

/** "src/app/db.py" -> "src.app.db"; "src/app/__init__.py" -> "src.app". */
export function moduleName(path: string): { module: string; isPackage: boolean } {
  const withoutExt = path.replace(/\.py$/, "");
  const isPackage = withoutExt.endsWith("/__init__") || withoutExt === "__init__";
  const dotted = withoutExt.replace(/\/__init__$/, "").replace(/^__init__$/, "").split("/").join(".");
  return { module: dotted, isPackage };
}

/** Resolve `from ..x import y` inside module M to an absolute module name. */
export function resolveRelative(current: string, isPackage: boolean, level: number, target: string): string {
  const parts = current.split(".").filter(Boolean);
  const base = isPackage ? parts : parts.slice(0, -1);
  const up = base.slice(0, Math.max(0, base.length - (level - 1)));
  return [...up, ...(target ? target.split(".") : [])].join(".");
}

export function lastSegment(text: string): string {
  return text.slice(text.lastIndexOf(".") + 1);
}

/** The absolute module a `from X import ...` names, resolving `.`/`..` against the importing module. */
export function importedModule(moduleNode: SyntaxNode, module: string, isPackage: boolean): string {
  if (moduleNode.type !== "relative_import") return moduleNode.text;
  const prefix = moduleNode.namedChildren.find((c) => c.type === "import_prefix")?.text ?? ".";
  const dotted = moduleNode.namedChildren.find((c) => c.type === "dotted_name")?.text ?? "";
  return resolveRelative(module, isPackage, prefix.length, dotted);
}

/** Import statements of a module: local name -> fully qualified "module.name" (or module for `import x`). */
export function collectImports(root: SyntaxNode, module: string, isPackage: boolean): Record<string, string> {
  const imports: Record<string, string> = {};
  for (const statement of root.descendantsOfType(["import_from_statement", "import_statement"])) {
    if (statement.type === "import_statement") {
      for (const name of statement.childrenForFieldName("name")) {
        if (name.type === "aliased_import") {
          const target = name.childForFieldName("name")?.text ?? "";
          const alias = name.childForFieldName("alias")?.text ?? "";
          if (alias) imports[alias] = target;
        } else {
          imports[name.text.split(".")[0]] = name.text.split(".")[0];
        }
      }
      continue;
    }
    const moduleNode = statement.childForFieldName("module_name");
    if (!moduleNode) continue;
    const from = importedModule(moduleNode, module, isPackage);
    for (const name of statement.childrenForFieldName("name")) {
      if (name.type === "aliased_import") {
        const target = name.childForFieldName("name")?.text ?? "";
        const alias = name.childForFieldName("alias")?.text ?? target;
        imports[alias] = `${from}.${target}`;
      } else {
        imports[name.text] = `${from}.${name.text}`;
      }
    }
  }
  return imports;
}

/** Words any file that can acquire, define or hand out a resource mentions (before the project's own names). */
export function baseLiterals(registry: ModelRegistry, options: AnalyzeOptions): string[] {
  const packages = new Set<string>();
  for (const library of registry.libraries) for (const p of library.packages) packages.add(p);
  packages.delete("asyncio");
  packages.delete("contextlib");
  packages.delete("starlette");
  packages.delete("fastapi");
  packages.delete("anyio");
  const words = [
    ...[...packages].map((p) => `\\b${p}\\b`),
    "[Ss]ession",
    "[Ee]ngine",
    "[Pp]ool\\w*\\.(?:acquire|getconn)\\(",
    "__a?enter__",
    "\\bconnect\\(",
  ];
  const configured = [...options.config.sessions.factories, ...options.config.sessions.closers, ...(options.config.resources ?? []).flatMap((r) => [r.acquire, ...r.release])];
  for (const name of configured) words.push(`\\b${escapeRegExp(lastSegment(name))}\\b`);
  return words;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

type ParsedModule = { file: SourceInput; module: string; isPackage: boolean; root: SyntaxNode; imports: Record<string, string> };

type FunctionEntry = { fn: SyntaxNode; module: ParsedModule };

function definitionOf(statement: SyntaxNode): SyntaxNode | null {
  if (statement.type === "decorated_definition") return statement.childForFieldName("definition");
  return statement;
}

/** Collect module-level bindings, functions, classes, attribute and key stores of one module. */
function collectModule(parsed: ParsedModule, index: PythonIndex, registry: ModelRegistry, functions: Map<string, FunctionEntry>, summaries: Map<string, PySummary>): void {
  const facts: ModuleFacts = index.modules[parsed.module] ?? { module: parsed.module, isPackage: parsed.isPackage, bindings: {}, imports: parsed.imports };
  index.modules[parsed.module] = facts;
  const r = new ModuleResolver(index, parsed.module, parsed.imports, registry, (q) => summaries.get(q), facts.bindings);
  const bind = (name: string, binding: PyBinding) => {
    facts.bindings[name] = binding;
  };
  for (const statement of parsed.root.namedChildren) {
    const def = definitionOf(statement);
    if (def?.type === "function_definition") {
      const name = def.childForFieldName("name")?.text;
      if (!name) continue;
      const qualified = `${parsed.module}.${name}`;
      functions.set(qualified, { fn: def, module: parsed });
      bind(name, { kind: "function", qualified });
      continue;
    }
    if (def?.type === "class_definition") {
      const name = def.childForFieldName("name")?.text;
      if (!name) continue;
      const qualified = `${parsed.module}.${name}`;
      let instance: string | null = null;
      for (const base of def.childForFieldName("superclasses")?.namedChildren ?? []) {
        const val = staticVal(base, r);
        if (val.k === "export") instance ??= registry.exports.get(val.name)?.type ?? registry.exports.get(val.name)?.call?.returns ?? null;
        if (val.k === "class") instance ??= val.instance;
      }
      if (instance && !r.facts(instance)) instance = null;
      bind(name, { kind: "class", qualified, instance });
      for (const member of def.childForFieldName("body")?.namedChildren ?? []) {
        const method = definitionOf(member);
        if (method?.type !== "function_definition") continue;
        const methodName = method.childForFieldName("name")?.text;
        if (methodName) functions.set(`${qualified}.${methodName}`, { fn: method, module: parsed });
      }
      continue;
    }
    const assignment = statement.type === "expression_statement" ? statement.namedChildren[0] : null;
    if (assignment?.type !== "assignment") continue;
    const left = assignment.childForFieldName("left");
    const right = assignment.childForFieldName("right");
    if (left?.type !== "identifier" || !right) continue;
    const val = staticVal(right, r);
    if (val.k === "type") bind(left.text, { kind: "value", type: val.type });
    else if (val.k === "fn") bind(left.text, { kind: "function", qualified: val.name });
    else if (val.k === "class") bind(left.text, { kind: "class", qualified: val.name, instance: val.instance });
  }
  // Stores anywhere in the module: module globals bound late, attributes and keys holding factories.
  for (const assignment of parsed.root.descendantsOfType("assignment")) {
    const left = assignment.childForFieldName("left");
    const right = assignment.childForFieldName("right");
    if (!left || !right || right.type === "assignment") continue;
    if (left.type === "identifier") {
      const fn = enclosingFunction(assignment);
      if (!fn || !declaresGlobal(fn, left.text)) continue;
      const val = staticVal(right, r);
      if (val.k === "type") bind(left.text, { kind: "value", type: val.type });
      continue;
    }
    if (left.type !== "attribute" && left.type !== "subscript") continue;
    const val = staticVal(right, r, localValues(assignment, r));
    if (val.k !== "type") continue;
    const model = registry.types.get(val.type);
    // Only factories, engines and pools: a session kept on an object is that object's business.
    if (!model?.call && !model?.methods) continue;
    if (left.type === "attribute") index.attributes[left.childForFieldName("attribute")?.text ?? ""] = val.type;
    else {
      const key = left.childrenForFieldName("subscript")[0];
      if (key?.type === "string") index.keys[key.text.replace(/^[rbuf]*["']|["']$/gi, "")] = val.type;
    }
  }
}

function enclosingFunction(node: SyntaxNode): SyntaxNode | null {
  for (let p = node.parent; p; p = p.parent) if (p.type === "function_definition") return p;
  return null;
}

function declaresGlobal(fn: SyntaxNode, name: string): boolean {
  return fn.descendantsOfType("global_statement").some((g) => g.namedChildren.some((id) => id.text === name));
}

/** Values of the simple local assignments before `node` in its function (`factory = sessionmaker(); app.state.f = factory`). */
function localValues(node: SyntaxNode, r: ModuleResolver) {
  const fn = enclosingFunction(node);
  const locals = new Map<string, ReturnType<typeof staticVal>>();
  if (!fn) return locals;
  for (const a of fn.descendantsOfType("assignment")) {
    if (a.startIndex >= node.startIndex) break;
    const left = a.childForFieldName("left");
    const right = a.childForFieldName("right");
    if (left?.type === "identifier" && right) {
      const val = staticVal(right, r, locals);
      if (val.k !== "unknown") locals.set(left.text, val);
    }
  }
  return locals;
}

function interesting(summary: PySummary): boolean {
  return (
    summary.returnsFresh !== null ||
    summary.returnsType !== null ||
    summary.yieldsType !== null ||
    summary.releasesParams.length > 0 ||
    summary.takesParams.length > 0 ||
    summary.invokesParams.length > 0 ||
    summary.entersParams.length > 0
  );
}

export function buildPythonIndex(files: readonly SourceInput[], options: AnalyzeOptions): PythonIndex {
  const registry = pythonRegistry(options.config);
  const index: PythonIndex = {
    modules: {},
    attributes: {},
    keys: {},
    summaries: {},
    literals: "",
    configFactories: options.config.sessions.factories,
    configClosers: options.config.sessions.closers,
  };
  const python = files.filter((f) => f.path.endsWith(".py"));
  const parsed = new Map<string, ParsedModule>();
  const base = baseLiterals(registry, options);
  let pattern = new RegExp(base.join("|"));
  const functions = new Map<string, FunctionEntry>();
  let summaries = new Map<string, PySummary>();
  const known = new Set<string>();
  for (let round = 0; round < 4; round++) {
    const fresh: ParsedModule[] = [];
    for (const file of python) {
      if (parsed.has(file.path) || !pattern.test(file.text)) continue;
      const { module, isPackage } = moduleName(file.path);
      const root = parsePython(file.text).rootNode;
      const entry: ParsedModule = { file, module, isPackage, root, imports: collectImports(root, module, isPackage) };
      parsed.set(file.path, entry);
      fresh.push(entry);
    }
    if (fresh.length === 0 && round > 0) break;
    // Bindings, then summaries, then bindings again (a module global bound to a project function's result).
    for (const m of parsed.values()) collectModule(m, index, registry, functions, summaries);
    summaries = solveSummaries(functions, (entry, _name, lookup) => {
      const facts = index.modules[entry.module.module];
      const r = new ModuleResolver(index, entry.module.module, entry.module.imports, registry, (q) => lookup(q) as PySummary | undefined, facts?.bindings ?? {});
      return summarize(lowerFunction(entry.fn, r, "summary"), r);
    }) as Map<string, PySummary>;
    for (const m of parsed.values()) collectModule(m, index, registry, functions, summaries);
    // Next round: files that mention a name this round learned something about.
    const names = new Set<string>();
    for (const facts of Object.values(index.modules)) {
      for (const [name, binding] of Object.entries(facts.bindings)) {
        const useful = binding.kind === "value" || (binding.kind === "class" && binding.instance) || (binding.kind === "function" && summaries.has(binding.qualified) && interesting(summaries.get(binding.qualified) as PySummary));
        if (useful && !known.has(name)) names.add(name);
      }
    }
    if (names.size === 0) break;
    for (const n of names) known.add(n);
    pattern = new RegExp([...names].map((n) => `\\b${escapeRegExp(n)}\\b`).join("|"));
  }
  for (const [name, summary] of summaries) if (interesting(summary)) index.summaries[name] = summary;
  // Keep modules that bind something or import something another module knows about.
  for (const [name, facts] of Object.entries(index.modules)) {
    for (const [local, binding] of Object.entries(facts.bindings)) {
      if (binding.kind === "function" && !index.summaries[binding.qualified]) delete facts.bindings[local];
      if (binding.kind === "class" && !binding.instance && !Object.keys(index.summaries).some((q) => q.startsWith(`${binding.qualified}.`))) delete facts.bindings[local];
    }
    if (Object.keys(facts.bindings).length === 0 && Object.keys(facts.imports).length === 0) delete index.modules[name];
  }
  const literalNames = new Set<string>(known);
  for (const attribute of Object.keys(index.attributes)) literalNames.add(attribute);
  for (const key of Object.keys(index.keys)) literalNames.add(key);
  index.literals = [...base, ...[...literalNames].filter((n) => /^\w+$/.test(n)).map((n) => `\\b${n}\\b`)].join("|");
  return index;
}
