import type { AnalyzeOptions, SourceInput } from "../types.ts";
import { isAsyncNode, parsePython, type SyntaxNode } from "./parse.ts";

// Cross-file facts: which names are session factories, followed through imports and
// re-exports. This is what separates Poolguard from a grep: `from app.db import
// SessionLocal` is a factory because app/db.py binds it to sessionmaker(...).

export type FactoryKind = "sync" | "async" | "unknown";

/** What a module-level (or class-level) name is. */
export type Binding =
  /** Calling it returns a session: sessionmaker()/async_sessionmaker() results, functions returning a session. */
  | { kind: "factory"; async: FactoryKind }
  /** Calling it returns a context manager yielding a session (@asynccontextmanager). */
  | { kind: "cm-factory"; async: FactoryKind }
  /** A session instance created at module level. */
  | { kind: "session-instance" };

export type ModuleFacts = {
  module: string;
  isPackage: boolean;
  bindings: Record<string, Binding>;
  /** Local name -> "module.name" it was imported from (for re-exports). */
  imports: Record<string, string>;
};

export type PythonIndex = {
  modules: Record<string, ModuleFacts>;
  /** Attribute names bound to factories anywhere (`self.session_factory = sessionmaker(...)`, `app.state.db = ...`). */
  attributeFactories: Record<string, FactoryKind>;
  configFactories: string[];
  configClosers: string[];
};

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

const factoryCalls: Record<string, FactoryKind> = {
  sessionmaker: "sync",
  async_sessionmaker: "async",
  scoped_session: "sync",
  async_scoped_session: "async",
};

export function lastSegment(text: string): string {
  return text.slice(text.lastIndexOf(".") + 1);
}

export function factoryKindOfCall(call: SyntaxNode): FactoryKind | null {
  if (call.type !== "call") return null;
  const fn = call.childForFieldName("function");
  if (!fn) return null;
  return factoryCalls[lastSegment(fn.text)] ?? null;
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

function decoratorNames(definition: SyntaxNode): string[] {
  const parent = definition.parent;
  if (parent?.type !== "decorated_definition") return [];
  return parent.namedChildren.filter((c) => c.type === "decorator").map((d) => lastSegment(d.text.replace(/^@/, "").replace(/\(.*$/s, "")));
}

function functionFacts(fn: SyntaxNode, bindings: Record<string, Binding>): Binding | null {
  const body = fn.childForFieldName("body");
  if (!body) return null;
  const asyncFn = isAsyncNode(fn);
  const decorators = decoratorNames(fn);
  const text = body.text;
  if (decorators.includes("asynccontextmanager") || decorators.includes("contextmanager")) {
    // A context-manager function that yields something session-like.
    if (/\byield\b/.test(text) && /session|Session|conn/.test(text)) {
      return { kind: "cm-factory", async: decorators.includes("asynccontextmanager") ? "async" : "sync" };
    }
    return null;
  }
  // `def get_db(): return SessionLocal()` -> calling get_db() returns a session.
  for (const ret of body.descendantsOfType("return_statement")) {
    const value = ret.namedChildren[0];
    if (value?.type !== "call") continue;
    const callee = value.childForFieldName("function")?.text ?? "";
    const bound = bindings[callee];
    if (bound?.kind === "factory" || isConventionalFactoryName(callee) || /^(Async)?Session$/.test(callee)) {
      return { kind: "factory", async: bound && "async" in bound ? bound.async : asyncFn ? "async" : "unknown" };
    }
  }
  return null;
}

/** Conventional factory names (rules.md): SessionLocal, *session_factory, *session_maker*, async_session. */
export function isConventionalFactoryName(name: string): boolean {
  const last = lastSegment(name);
  return /^(Async)?SessionLocal$/.test(last) || /session_?factory$/i.test(last) || /session_?maker/i.test(last) || last === "async_session";
}

export function kindFromName(name: string): FactoryKind {
  return /async/i.test(name) ? "async" : "unknown";
}

function moduleFacts(file: SourceInput): ModuleFacts {
  const { module, isPackage } = moduleName(file.path);
  const facts: ModuleFacts = { module, isPackage, bindings: {}, imports: {} };
  const text = file.text;
  // Only modules that mention sessions can bind or re-export a factory; skipping the
  // rest keeps the index pass far below the cost of a second parse of the repository.
  if (!/sessionmaker|SessionLocal|session_?factory|session_?maker|async_session|Session\(|contextmanager[\s\S]*[Ss]ession/.test(text)) return facts;
  const tree = parsePython(text);
  const root = tree.rootNode;
  facts.imports = collectImports(root, module, isPackage);
  // Module-level bindings first (functions may return them).
  for (const statement of root.namedChildren) {
    const assignment = statement.type === "expression_statement" ? statement.namedChildren[0] : null;
    if (assignment?.type !== "assignment") continue;
    const left = assignment.childForFieldName("left");
    const right = assignment.childForFieldName("right");
    if (left?.type !== "identifier" || !right) continue;
    const kind = factoryKindOfCall(right);
    if (kind) {
      facts.bindings[left.text] = { kind: "factory", async: kind };
      continue;
    }
    if (right.type === "identifier" && facts.bindings[right.text]) facts.bindings[left.text] = facts.bindings[right.text];
  }
  for (const statement of root.namedChildren) {
    const fn = statement.type === "decorated_definition" ? statement.childForFieldName("definition") : statement;
    if (fn?.type !== "function_definition") continue;
    const name = fn.childForFieldName("name")?.text;
    if (!name) continue;
    const binding = functionFacts(fn, facts.bindings);
    if (binding) facts.bindings[name] = binding;
  }
  return facts;
}

function attributeFactories(file: SourceInput, into: Record<string, FactoryKind>): void {
  if (!/sessionmaker/.test(file.text)) return;
  const root = parsePython(file.text).rootNode;
  for (const assignment of root.descendantsOfType("assignment")) {
    const left = assignment.childForFieldName("left");
    const right = assignment.childForFieldName("right");
    if (left?.type !== "attribute" || !right) continue;
    const kind = factoryKindOfCall(right);
    if (kind) into[left.childForFieldName("attribute")?.text ?? ""] = kind;
  }
}

export function buildPythonIndex(files: readonly SourceInput[], options: AnalyzeOptions): PythonIndex {
  const index: PythonIndex = {
    modules: {},
    attributeFactories: {},
    configFactories: options.config.sessions.factories,
    configClosers: options.config.sessions.closers,
  };
  for (const file of files) {
    if (!file.path.endsWith(".py")) continue;
    const facts = moduleFacts(file);
    if (Object.keys(facts.bindings).length > 0 || Object.keys(facts.imports).length > 0) index.modules[facts.module] = facts;
    attributeFactories(file, index.attributeFactories);
  }
  // Re-exports (`from .core import TenantSession` in a package __init__) need not mention
  // sessions at all: a second, cheap pass parses only the modules that import a name the
  // first pass found, whatever it is called.
  const names = new Set<string>();
  for (const facts of Object.values(index.modules)) for (const name of Object.keys(facts.bindings)) names.add(name);
  if (names.size > 0) {
    const mentions = new RegExp(`\\bimport\\b[^\\n]*\\b(?:${[...names].join("|")})\\b`);
    for (const file of files) {
      if (!file.path.endsWith(".py")) continue;
      const { module, isPackage } = moduleName(file.path);
      if (index.modules[module] || !mentions.test(file.text)) continue;
      index.modules[module] = { module, isPackage, bindings: {}, imports: collectImports(parsePython(file.text).rootNode, module, isPackage) };
    }
  }
  // Imports carry no facts themselves; drop modules that only import to keep the index small.
  for (const [name, facts] of Object.entries(index.modules)) {
    if (Object.keys(facts.bindings).length === 0 && !Object.values(facts.imports).some((target) => lookupQualified(index, target, 0))) {
      delete index.modules[name];
    }
  }
  return index;
}

/** Follow "pkg.module.name" through modules and their re-exports. */
export function lookupQualified(index: PythonIndex, qualified: string, depth = 0): Binding | null {
  if (depth > 6) return null;
  const dot = qualified.lastIndexOf(".");
  if (dot <= 0) return null;
  const module = index.modules[qualified.slice(0, dot)];
  const name = qualified.slice(dot + 1);
  if (!module) return null;
  const local = module.bindings[name];
  if (local) return local;
  const reexport = module.imports[name];
  return reexport ? lookupQualified(index, reexport, depth + 1) : null;
}
