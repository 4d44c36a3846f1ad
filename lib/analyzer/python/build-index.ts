import type { ModelRegistry } from "../flow/models.ts";
import type { AnalyzeOptions, SourceInput } from "../types.ts";
import type { ModuleFacts, PyBinding, PySummary, PythonIndex } from "./flow/index-types.ts";
import { lowerFunction, parameterNames } from "./flow/lower.ts";
import { ModuleResolver, pythonRegistry, staticVal } from "./flow/resolve.ts";
import { summarize } from "./flow/summarize.ts";
import { descendantsOf, nodesByKeyword, parsePython, type SyntaxNode, type Tree } from "./parse.ts";

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

/** A tree the index parsed, with the text it was parsed from (the analysis reuses it only for that exact text). */
export type ParsedFile = { text: string; tree: Tree };

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

const importTypes = ["import_from_statement", "import_statement"];

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

/**
 * Import statements of a module: local name -> fully qualified "module.name" (or module for `import x`).
 * TEXT, the module's source, lets them be found from the word `import` (see nodesByKeyword).
 */
export function collectImports(root: SyntaxNode, module: string, isPackage: boolean, text?: string): Record<string, string> {
  const imports: Record<string, string> = {};
  const statements = text === undefined ? root.descendantsOfType(["import_from_statement", "import_statement"]) : nodesByKeyword(root, text, "import", importTypes);
  for (const statement of statements) {
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

/**
 * Words any code that can acquire, define or hand out a resource mentions, before the
 * project's own names: the callables the models say return a fresh resource (`connect(`,
 * `sessionmaker(`, `create_engine(`, `getconn(`...), the conventional factory names, manual
 * enters, and the config's names. Derived from the models, so a new library file extends it.
 */
export function baseLiterals(registry: ModelRegistry, options: AnalyzeOptions): string[] {
  const calls = new Set<string>(["Session", "AsyncSession", "SessionLocal", "AsyncSessionLocal", "async_session"]);
  // A resource, a factory, or an object whose methods hand out one (`db = SQLAlchemy()`, then `db.create_scoped_session()`).
  const freshOrFactory = (returns: string | undefined, fresh: boolean | undefined, depth = 0): boolean => {
    if (!returns || fresh === false) return false;
    const type = registry.types.get(returns);
    if (!type) return false;
    if (type.resource || type.call) return true;
    return depth === 0 && Object.values(type.methods ?? {}).some((m) => freshOrFactory(m.returns, m.fresh, 1));
  };
  for (const [name, entry] of registry.exports) if (freshOrFactory(entry.call?.returns, entry.call?.fresh)) calls.add(lastSegment(name));
  for (const type of registry.types.values()) {
    for (const [method, model] of Object.entries(type.methods ?? {})) if (freshOrFactory(model.returns, model.fresh)) calls.add(method);
  }
  const words = [`\\b(?:${[...calls].map(escapeRegExp).join("|")})\\s*\\(`, "session_?factory", "session_?maker", "__a?enter__"];
  // A generator that yields a session it did not open and cleans it up afterwards (`yield self._session`).
  words.push("\\byield\\s+[\\w.]*(?:[Ss]ession\\w*|sess|db)\\b");
  // A project subclass of a modelled resource (`class DatabaseSession(Session)`): its
  // instances are that resource, so the module defining it must be indexed.
  const bases = new Set<string>();
  for (const [name, entry] of registry.exports) if (entry.type && registry.types.get(entry.type)?.resource) bases.add(lastSegment(name));
  if (bases.size > 0) words.push(`\\bclass\\s+\\w+\\s*\\([^)]*\\b(?:${[...bases].map(escapeRegExp).join("|")})\\b`);
  const configured = [...options.config.sessions.factories, ...options.config.sessions.closers, ...(options.config.resources ?? []).flatMap((r) => [r.acquire, ...r.release])];
  for (const name of configured) words.push(`\\b${escapeRegExp(lastSegment(name))}\\b`);
  return words;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Parsed trees kept while the index is built, by source size, the most recently used
// first. What the index needs from a file lives outside its tree (imports, bindings,
// function texts and locations), so a file whose tree was dropped is parsed again only
// when a later pass needs it: a summary recomputed in the fixpoint, or the last binding
// pass. By default every tree is kept: a dropped tree's native memory is freed by an
// N-API finalizer, which node runs only when the event loop turns, and this build is
// synchronous, so dropping trees frees nothing and each re-parse adds a tree (measured on
// a million-line repository: the index's peak went from 1.07 GB to 2.0 GB with a 2 MB
// budget). A budget pays off once the build can let the loop turn between files.
const KEPT_SOURCE_BYTES = Number.POSITIVE_INFINITY;

type ParsedModule = { file: SourceInput; module: string; isPackage: boolean; imports: Record<string, string>; stores?: Store[] };

type Store = { assignment: SyntaxNode; left: SyntaxNode; right: SyntaxNode };

/** A function by where it is in its module, not by its syntax node (which would keep the whole tree alive). */
type FunctionEntry = { module: ParsedModule; start: number; end: number };

type TreeKeeper = { rootOf(m: ParsedModule): SyntaxNode; kept(): Iterable<[ParsedModule, Tree]> };

function treeKeeper(budget: number): TreeKeeper {
  // Map order is recency: the first entry is the least recently used.
  const kept = new Map<ParsedModule, Tree>();
  let bytes = 0;
  return {
    rootOf(m) {
      const hit = kept.get(m);
      if (hit) {
        kept.delete(m);
        kept.set(m, hit);
        return hit.rootNode;
      }
      const tree = parsePython(m.file.text);
      kept.set(m, tree);
      bytes += m.file.text.length;
      // The tree just parsed stays even over budget: its caller is about to use it.
      for (const [other] of kept) {
        if (bytes <= budget || other === m) break;
        kept.delete(other);
        bytes -= other.file.text.length;
      }
      return tree.rootNode;
    },
    kept: () => kept.entries(),
  };
}

function functionAt(root: SyntaxNode, entry: FunctionEntry): SyntaxNode {
  const matches = (n: SyntaxNode) => n.type === "function_definition" && n.startIndex === entry.start && n.endIndex === entry.end;
  for (let n: SyntaxNode | null = root.descendantForIndex(entry.start, entry.end); n; n = n.parent) if (matches(n)) return n;
  const found = root.descendantsOfType("function_definition").find(matches);
  if (!found) throw new Error(`${entry.module.file.path}: no function at ${entry.start}-${entry.end} after parsing again`);
  return found;
}

function definitionOf(statement: SyntaxNode): SyntaxNode | null {
  if (statement.type === "decorated_definition") return statement.childForFieldName("definition");
  return statement;
}

/** Collect module-level bindings, functions, classes, attribute and key stores of one module. */
function collectModule(
  parsed: ParsedModule,
  root: SyntaxNode,
  index: PythonIndex,
  registry: ModelRegistry,
  onFunction: (qualified: string, fn: SyntaxNode) => void,
  summaries: Map<string, PySummary>,
): void {
  const facts: ModuleFacts = index.modules[parsed.module] ?? { module: parsed.module, isPackage: parsed.isPackage, bindings: {}, imports: parsed.imports };
  index.modules[parsed.module] = facts;
  const r = new ModuleResolver(index, parsed.module, parsed.imports, registry, (q) => summaries.get(q), facts.bindings);
  const bind = (name: string, binding: PyBinding) => {
    facts.bindings[name] = binding;
  };
  for (const statement of root.namedChildren) {
    const def = definitionOf(statement);
    if (def?.type === "function_definition") {
      const name = def.childForFieldName("name")?.text;
      if (!name) continue;
      const qualified = `${parsed.module}.${name}`;
      onFunction(qualified, def);
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
        if (methodName) onFunction(`${qualified}.${methodName}`, method);
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
  const locals = new LocalValues(r);
  parsed.stores ??= storesOf(parsed, root);
  for (const { assignment, left, right } of parsed.stores) {
    if (left.type === "identifier") {
      const val = staticVal(right, r);
      if (val.k === "type") bind(left.text, { kind: "value", type: val.type });
      continue;
    }
    if (left.type !== "attribute" && left.type !== "subscript") continue;
    const val = staticVal(right, r, right.type === "identifier" ? locals.before(assignment) : undefined);
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

/**
 * The assignments of a module that can store a value the index keeps: a module global
 * bound inside a function under `global`, an attribute or a subscript. Pure syntax, so
 * listed once per module (the index collects every module twice).
 */
function storesOf(parsed: ParsedModule, root: SyntaxNode): Store[] {
  const stores: Store[] = [];
  // A name is bound late only under a `global` statement: without the word, no need to look.
  let lateNames: Set<string> | null = null;
  if (/\bglobal\b/.test(parsed.file.text)) {
    lateNames = new Set();
    for (const g of nodesByKeyword(root, parsed.file.text, "global", ["global_statement"])) for (const id of g.namedChildren) lateNames.add(id.text);
  }
  for (const assignment of root.descendantsOfType("assignment")) {
    const left = assignment.childForFieldName("left");
    const right = assignment.childForFieldName("right");
    if (!left || !right || right.type === "assignment") continue;
    if (left.type === "identifier") {
      // Only a name some `global` statement of the module lists can be declared global in the function.
      if (!lateNames?.has(left.text)) continue;
      const fn = enclosingFunction(assignment);
      if (!fn || !declaresGlobal(fn, left.text)) continue;
    } else if (left.type !== "attribute" && left.type !== "subscript") continue;
    stores.push({ assignment, left, right });
  }
  return stores;
}

/** Does the function release, keep or enter one of its parameters (`conn.close()`, `pool.append(conn)`)? */
function releasesAParameter(fn: SyntaxNode, text: string): boolean {
  if (!/\.(?:a?close|release|dispose|putconn|terminate|__a?exit__|append|put|put_nowait|appendleft|enter_(?:async_)?context|push_async_callback|__a?enter__)\(/.test(text)) return false;
  const names = parameterNames(fn).names.filter((n) => /^\w+$/.test(n));
  if (names.length === 0) return false;
  const p = names.join("|");
  return new RegExp(`\\b(?:${p})\\.(?:a?close|release|dispose|terminate|__a?exit__|__a?enter__)\\(|\\.(?:append|put|put_nowait|appendleft|enter_(?:async_)?context|push_async_callback|putconn|release)\\(\\s*(?:${p})\\b`).test(text);
}

/** A call given a lambda without parameters as its first argument: the callee and the lambda's body (one line). */
const lambdaArgument = /\b([A-Za-z_][\w.]*)\(\s*lambda\s*:([^\n]*)/g;

/** `def retry(f): ... return f()` (or hands a parameter on to such a wrapper): may return what its callable returns. */
function returnsACall(fn: SyntaxNode, text: string): boolean {
  if (!/\breturn\b/.test(text)) return false;
  const names = parameterNames(fn).names.filter((n) => /^\w+$/.test(n) && n !== "self" && n !== "cls");
  if (names.length === 0) return false;
  return new RegExp(`\\b(?:${names.join("|")})\\s*\\(|\\breturn\\s+[\\w.]+\\(\\s*(?:${names.join("|")})\\s*[,)]`).test(text);
}

function enclosingFunction(node: SyntaxNode): SyntaxNode | null {
  for (let p = node.parent; p; p = p.parent) if (p.type === "function_definition") return p;
  return null;
}

function declaresGlobal(fn: SyntaxNode, name: string): boolean {
  return descendantsOf(fn, "global_statement").some((g) => g.namedChildren.some((id) => id.text === name));
}

type Val = ReturnType<typeof staticVal>;

/**
 * Values of the simple local assignments before a node in its function (`factory =
 * sessionmaker(); app.state.f = factory`). Each function's assignments are evaluated once,
 * in order (each value depends only on the ones before it), and replayed up to the node:
 * a function storing many fields would otherwise re-evaluate its assignments per store.
 */
class LocalValues {
  private readonly byFunction = new Map<number, { at: number; name: string; val: Val }[]>();
  constructor(private readonly r: ModuleResolver) {}

  before(node: SyntaxNode): Map<string, Val> {
    const locals = new Map<string, Val>();
    const fn = enclosingFunction(node);
    if (!fn) return locals;
    let entries = this.byFunction.get(fn.id);
    if (!entries) {
      entries = [];
      const running = new Map<string, Val>();
      for (const a of descendantsOf(fn, "assignment")) {
        const left = a.childForFieldName("left");
        const right = a.childForFieldName("right");
        if (left?.type === "identifier" && right) {
          const val = staticVal(right, this.r, running);
          if (val.k !== "unknown") {
            running.set(left.text, val);
            entries.push({ at: a.startIndex, name: left.text, val });
          }
        }
      }
      this.byFunction.set(fn.id, entries);
    }
    for (const entry of entries) {
      if (entry.at >= node.startIndex) break;
      locals.set(entry.name, entry.val);
    }
    return locals;
  }
}

const commonNames = new Set(["get", "create", "update", "delete", "list", "all", "run", "main", "init", "save", "add", "remove", "close", "open", "query", "execute", "session", "db", "conn", "connection", "engine", "pool", "setup", "start", "stop", "fetch", "load", "process", "handle", "call", "wrapper", "inner", "func"]);

/** A name specific enough to search the code base for. */
function distinctive(name: string): boolean {
  return name.length >= 4 && !name.startsWith("__") && !commonNames.has(name.toLowerCase());
}

/** Summary facts that change what a caller's own summary says (invoking a callback does not). */
function chased(summary: PySummary): boolean {
  return summary.returnsFresh !== null || summary.yieldsType !== null || summary.releasesParams.length > 0 || summary.returnsCallOf !== undefined;
}

const emptyPySummary: PySummary = {
  returnsFresh: null,
  alwaysFresh: false,
  returnsType: null,
  async: false,
  releasesParams: [],
  takesParams: [],
  invokesParams: [],
  yieldsFresh: null,
  contextManager: false,
  memoised: false,
  generator: false,
  yieldsType: null,
  entersParams: [],
  params: [],
};

function interesting(summary: PySummary): boolean {
  return (
    summary.returnsFresh !== null ||
    summary.returnsType !== null ||
    summary.yieldsType !== null ||
    summary.releasesParams.length > 0 ||
    summary.takesParams.length > 0 ||
    summary.invokesParams.length > 0 ||
    summary.entersParams.length > 0 ||
    summary.returnsCallOf !== undefined
  );
}

const sourceRootNames = new Set(["src", "lib", "python"]);

/**
 * src layouts: `src/app/db.py` is imported as `app.db` when `src/` is not a package itself.
 * Returns import name -> indexed module name, for names that are unambiguous.
 */
export function sourceRootAliases(paths: readonly string[]): Record<string, string> {
  const packages = new Set(paths.filter((p) => p === "__init__.py" || p.endsWith("/__init__.py")).map((p) => p.slice(0, Math.max(0, p.length - "/__init__.py".length))));
  const aliases: Record<string, string> = {};
  const ambiguous = new Set<string>();
  for (const path of paths) {
    const segments = path.split("/");
    for (let i = 0; i < segments.length - 1; i++) {
      if (!sourceRootNames.has(segments[i]) || packages.has(segments.slice(0, i + 1).join("/"))) continue;
      const alias = moduleName(segments.slice(i + 1).join("/")).module;
      const full = moduleName(path).module;
      if (!alias || alias === full) continue;
      if (aliases[alias] !== undefined && aliases[alias] !== full) ambiguous.add(alias);
      aliases[alias] = full;
    }
  }
  for (const alias of ambiguous) delete aliases[alias];
  return aliases;
}

export function buildPythonIndex(
  files: readonly SourceInput[],
  options: AnalyzeOptions,
  limits: { keptSourceBytes?: number; /** Off: lower every function the fixpoint redoes (tests compare). */ reuseSummaries?: boolean } = {},
  /** When given, receives the trees still kept at the end, by path, for an analysis in the same process. */
  parsedOut?: Map<string, ParsedFile>,
): PythonIndex {
  const reuse = limits.reuseSummaries ?? true;
  const trees = treeKeeper(limits.keptSourceBytes ?? KEPT_SOURCE_BYTES);
  const registry = pythonRegistry(options.config);
  const python = files.filter((f) => f.path.endsWith(".py"));
  const index: PythonIndex = {
    modules: {},
    attributes: {},
    keys: {},
    summaries: {},
    literals: "",
    configFactories: options.config.sessions.factories,
    configClosers: options.config.sessions.closers,
    moduleAliases: sourceRootAliases(python.map((f) => f.path)),
  };
  const parsed = new Map<string, ParsedModule>();
  const base = baseLiterals(registry, options);
  const basePattern = new RegExp(base.join("|"));
  // Functions worth a summary: they mention an origin, or release / keep / enter something.
  const origins = new RegExp(`${base.join("|")}|->\\s*["']?[\\w.]*(?:Session|Connection)\\b`);
  let pattern = basePattern;
  const wantedDefiners = new Set<string>();
  const functions = new Map<string, FunctionEntry>();
  const texts = new Map<string, string>();
  // New functions of a round that touch resources (decided while their tree is at hand).
  const candidates = new Map<string, boolean>();
  const summaries = new Map<string, PySummary>();
  const known = new Set<string>();
  // A summary is a pure function of the function's syntax, the index's bindings, attributes
  // and keys (which change only when a round collects new files) and the summaries its
  // lowering read. So the summaries each computation read are recorded, and a function
  // whose reads all still hold in the same round is not lowered again: its summary would
  // come out the same (most of a fixpoint pass, which redoes every function that mentions
  // a changed name, is such functions).
  let epoch = 0;
  const readsOf = new Map<string, { epoch: number; reads: Map<string, PySummary | undefined> }>();
  const compute = (q: string, entry: FunctionEntry): PySummary => {
    const facts = index.modules[entry.module.module];
    const reads = new Map<string, PySummary | undefined>();
    const read = (name: string) => {
      const summary = summaries.get(name);
      if (!reads.has(name)) reads.set(name, summary);
      return summary;
    };
    const r = new ModuleResolver(index, entry.module.module, entry.module.imports, registry, read, facts?.bindings ?? {});
    const summary = summarize(lowerFunction(functionAt(trees.rootOf(entry.module), entry), r, "summary"), r);
    readsOf.set(q, { epoch, reads });
    return summary;
  };
  const sameInputs = (q: string): boolean => {
    const last = readsOf.get(q);
    if (!last || last.epoch !== epoch || !summaries.has(q)) return false;
    for (const [name, summary] of last.reads) if (summaries.get(name) !== summary) return false;
    return true;
  };
  // A worklist fixpoint: after the first pass, only functions that mention a name whose summary changed are redone.
  const solve = (initial: string[]): void => {
    let work = initial;
    for (let iteration = 0; iteration < 4 && work.length > 0; iteration++) {
      const changed = new Set<string>();
      let lowered = 0;
      for (const q of work) {
        const entry = functions.get(q);
        if (!entry || (reuse && sameInputs(q))) continue;
        const next = compute(q, entry);
        lowered++;
        const previous = summaries.get(q);
        if (previous && JSON.stringify(previous) === JSON.stringify(next)) continue;
        summaries.set(q, next);
        if (chased(next) || (previous && chased(previous))) {
          // Callers name a method or function by its last segment, a constructor by its class.
          const last = lastSegment(q);
          changed.add(last === "__init__" ? lastSegment(q.slice(0, q.lastIndexOf("."))) : last);
        }
      }
      if (process.env.POOLGUARD_DEBUG_INDEX) console.error(`[index]   pass ${iteration}: ${work.length} to redo, ${lowered} lowered, ${changed.size} changed`);
      // Common words (`get`, `create`) would pull in most of the code base: wrappers of wrappers named like that stay unknown.
      for (const name of changed) if (!distinctive(name)) changed.delete(name);
      if (changed.size === 0) break;
      const mentions = new RegExp(`\\b(?:${[...changed].map(escapeRegExp).join("|")})\\b`);
      // Bounded: a very large code base keeps the facts of the first passes.
      work = [...functions.keys()].filter((q) => mentions.test(texts.get(q) ?? "")).slice(0, 500);
    }
  };
  for (let round = 0; round < 4; round++) {
    const fresh: ParsedModule[] = [];
    const before = new Set(functions.keys());
    // This round collects new files: bindings, attributes and keys may change.
    epoch++;
    // Each file is collected right after it is parsed (collecting reads no other file's
    // tree), so its tree can be dropped before the next file is parsed.
    for (const file of python) {
      if (parsed.has(file.path) || !pattern.test(file.text)) continue;
      const { module, isPackage } = moduleName(file.path);
      const entry: ParsedModule = { file, module, isPackage, imports: {} };
      const root = trees.rootOf(entry);
      entry.imports = collectImports(root, module, isPackage, file.text);
      parsed.set(file.path, entry);
      fresh.push(entry);
      collectModule(
        entry,
        root,
        index,
        registry,
        (q, fn) => {
          functions.set(q, { module: entry, start: fn.startIndex, end: fn.endIndex });
          if (before.has(q)) return;
          const text = fn.text;
          texts.set(q, text);
          candidates.set(q, origins.test(text) || releasesAParameter(fn, text) || returnsACall(fn, text) || q.endsWith(".__init__"));
        },
        summaries,
      );
    }
    const added: string[] = [];
    for (const q of functions.keys()) {
      const text = texts.get(q) ?? "";
      if (summaries.has(q)) continue;
      // New functions that touch resources, and any function that mentions a name the last round learned about.
      if ((!before.has(q) && candidates.get(q) === true) || (known.size > 0 && pattern.test(text))) added.push(q);
    }
    candidates.clear();
    if (fresh.length === 0 && added.length === 0) break;
    if (process.env.POOLGUARD_DEBUG_INDEX) console.error(`[index] round ${round}: ${fresh.length} files parsed, ${added.length} functions to summarise`);
    solve(added);
    // Next round: files that mention a name this round learned something about.
    const names = new Set<string>();
    // Classes with a method that hands out or releases a resource: code that builds or returns their instances matters.
    const resourceClasses = new Set<string>();
    for (const [q, summary] of summaries) if (chased(summary)) resourceClasses.add(q.slice(0, q.lastIndexOf(".")));
    for (const facts of Object.values(index.modules)) {
      for (const [name, binding] of Object.entries(facts.bindings)) {
        const useful =
          binding.kind === "value" ||
          (binding.kind === "class" && (binding.instance || resourceClasses.has(binding.qualified))) ||
          (binding.kind === "function" && chased(summaries.get(binding.qualified) ?? emptyPySummary));
        if (useful && !known.has(name) && distinctive(name)) names.add(name);
      }
    }
    // `throttle(lambda: psycopg2.connect(dsn))`: the wrapper that runs the lambda may hand back what it
    // returns; the module defining it names no resource, so it is parsed for that name.
    const definers = new Set<string>();
    for (const entry of fresh) {
      for (const m of entry.file.text.matchAll(lambdaArgument)) {
        const name = lastSegment(m[1]);
        if (!wantedDefiners.has(name) && distinctive(name) && origins.test(m[2])) definers.add(name);
      }
    }
    if (names.size === 0 && definers.size === 0) break;
    for (const n of names) known.add(n);
    for (const n of definers) wantedDefiners.add(n);
    pattern = new RegExp([...[...names].map((n) => `\\b${escapeRegExp(n)}\\b`), ...[...definers].map((n) => `\\bdef\\s+${escapeRegExp(n)}\\b`)].join("|"));
  }
  // Module globals bound to a project function's result need the summaries: bind once more.
  // The function table is complete by now: this pass only rebinds.
  for (const m of parsed.values()) collectModule(m, trees.rootOf(m), index, registry, () => {}, summaries);
  for (const [name, summary] of summaries) if (interesting(summary)) index.summaries[name] = summary;
  // Keep modules that bind something or import something another module knows about.
  const classesWithSummaries = new Set(Object.keys(index.summaries).map((q) => q.slice(0, q.lastIndexOf("."))));
  for (const [name, facts] of Object.entries(index.modules)) {
    for (const [local, binding] of Object.entries(facts.bindings)) {
      if (binding.kind === "function" && !index.summaries[binding.qualified]) delete facts.bindings[local];
      if (binding.kind === "class" && !binding.instance && !classesWithSummaries.has(binding.qualified)) delete facts.bindings[local];
    }
    if (Object.keys(facts.bindings).length === 0 && Object.keys(facts.imports).length === 0) delete index.modules[name];
  }
  const literalNames = new Set<string>(known);
  // Methods are no module binding: `self._connect()` names a wrapper only by its last segment.
  for (const [name, summary] of summaries) if (chased(summary) && distinctive(lastSegment(name))) literalNames.add(lastSegment(name));
  for (const attribute of Object.keys(index.attributes)) literalNames.add(attribute);
  for (const key of Object.keys(index.keys)) literalNames.add(key);
  index.literals = [...base, ...[...literalNames].filter((n) => /^\w+$/.test(n)).map((n) => `\\b${n}\\b`)].join("|");
  if (parsedOut) for (const [m, tree] of trees.kept()) parsedOut.set(m.file.path, { text: m.file.text, tree });
  return index;
}
