import type { CallModel, ModelRegistry, ResourceFacts } from "../../flow/models.ts";
import { buildRegistry, resourceOf, userModels } from "../../flow/models.ts";
import type { PoolguardConfig, ResourceConfig } from "../../types.ts";
import { pythonModels } from "../../models/python/index.ts";
import type { SyntaxNode } from "../parse.ts";
import type { ModuleFacts, PySummary, PythonIndex } from "./index-types.ts";

// Resolution of Python expressions to what the models and summaries know: a call's
// callee becomes a qualified export ("sqlalchemy.orm.sessionmaker"), a project function
// ("app.db.get_conn", with its summary), a project class, or a value of a modeled type
// (calling a sessionmaker instance returns a Session). Everything else is unknown and,
// where the code's own names say what it is, resolved by convention (SessionLocal,
// `*session_factory`, `engine.connect()`), the way the rule catalogue defines factories.

/** What an expression evaluates to, as far as resources are concerned. */
export type Val =
  | { k: "type"; type: string }
  | { k: "export"; name: string }
  | { k: "fn"; name: string }
  | { k: "class"; name: string; instance: string | null }
  | { k: "module"; name: string }
  | { k: "unknown"; name: string };

export const unknown = (name = ""): Val => ({ k: "unknown", name });

/** What calling something does, merged from a model's CallModel or a project summary. */
export type CallFacts = CallModel & {
  /** The result is a context manager whose `with` yields this type (managed by the with). */
  enters?: string;
  /** Calling it returns a generator that yields this type. */
  generatorOf?: string;
  /** Project function summary, when the callee is one. */
  summary?: PySummary;
  /** Arguments it enters (`__aenter__`) without exiting. */
  entersArgs?: number[];
  /** The fresh resource is this element of the returned tuple (`conn, cur = get_conn()`). */
  freshElement?: number;
  /** Where the knowledge comes from, for messages. */
  origin: "model" | "summary" | "convention" | "config" | "class";
};

export const sessionFactoryType = "sqlalchemy.AnySessionFactory";
export const anySessionType = "sqlalchemy.AnySession";
const syncSessionType = "sqlalchemy.orm.Session";
const asyncSessionType = "sqlalchemy.ext.asyncio.AsyncSession";

/** Conventional factory names (rules.md): SessionLocal, *session_factory, *session_maker*, async_session. */
export function isConventionalFactoryName(name: string): boolean {
  const last = lastSegment(name);
  return /^(Async)?SessionLocal$/.test(last) || /session_?factory$/i.test(last) || /session_?maker/i.test(last) || last === "async_session";
}

/** `create_session_maker(...)`, `get_session_factory()`: they return a factory, not a session. */
export function returnsFactoryByName(name: string): boolean {
  const last = lastSegment(name);
  return /^(async_)?(sessionmaker|scoped_session)$|^async_scoped_session$/.test(last) || /^_?(create|make|get|build|new|init)_\w*(session_?maker|session_?factory)$/i.test(last);
}

export function lastSegment(text: string): string {
  return text.slice(text.lastIndexOf(".") + 1);
}

/**
 * Receivers whose type the code does not state, recognised by the method called and
 * the receiver's name (what a reader would assume): `engine.connect()`, `await pool.acquire()`.
 */
const receiverConventions: { method: string; receiver: RegExp; awaited?: boolean; async?: boolean; type: string }[] = [
  { method: "connect", receiver: /engine/i, awaited: false, type: "sqlalchemy.engine.Engine" },
  { method: "connect", receiver: /engine/i, awaited: true, type: "sqlalchemy.ext.asyncio.AsyncEngine" },
  { method: "raw_connection", receiver: /engine/i, type: "sqlalchemy.engine.Engine" },
  { method: "begin", receiver: /engine/i, type: "sqlalchemy.engine.Engine" },
  { method: "acquire", receiver: /pool/i, awaited: true, type: "asyncpg.Pool" },
  // Unawaited in async code: the acquire context manager (`async with` or a manual `__aenter__`).
  { method: "acquire", receiver: /pool/i, awaited: false, async: true, type: "asyncpg.Pool" },
  { method: "release", receiver: /pool/i, type: "asyncpg.Pool" },
  { method: "getconn", receiver: /pool/i, type: "psycopg2.pool.AbstractConnectionPool" },
  { method: "putconn", receiver: /pool/i, type: "psycopg2.pool.AbstractConnectionPool" },
];

export function conventionalReceiverType(receiverName: string, method: string, awaited: boolean, inAsync = false): string | null {
  const last = lastSegment(receiverName);
  for (const c of receiverConventions) {
    if (c.method !== method || !c.receiver.test(last)) continue;
    if (c.awaited !== undefined && c.awaited !== awaited) continue;
    if (c.async && !inAsync) continue;
    return c.type;
  }
  return null;
}

/** The registry of library models plus the user's `resources:` and `sessions.factories/closers`. */
export function pythonRegistry(config: PoolguardConfig): ModelRegistry {
  const resources: ResourceConfig[] = (config.resources ?? []).filter((r) => !r.acquire.includes("#") && !r.acquire.includes("/"));
  const user = userModels("python", resources);
  return buildRegistry([...pythonModels, user]);
}

/** A project module by the name code imports it as (also through a source root such as `src/`). */
export function projectModule(index: PythonIndex, name: string): ModuleFacts | undefined {
  return index.modules[name] ?? (index.moduleAliases?.[name] !== undefined ? index.modules[index.moduleAliases[name]] : undefined);
}

type PackageNames = { packages: Set<string>; prefixes: Set<string>; exports: number; libraries: number };

const packageNamesOf = new WeakMap<ModelRegistry, PackageNames>();

/**
 * The models' package names, and every dotted prefix of their exports (`a.b` of
 * `a.b.c`): what isModelPackage asks for each name it resolves, once per registry
 * instead of a pass over every export each time (rebuilt if the registry grew).
 */
function packageNames(registry: ModelRegistry): PackageNames {
  const cached = packageNamesOf.get(registry);
  if (cached && cached.exports === registry.exports.size && cached.libraries === registry.libraries.length) return cached;
  const packages = new Set(registry.libraries.flatMap((l) => l.packages));
  const prefixes = new Set<string>();
  for (const name of registry.exports.keys()) for (let dot = name.indexOf("."); dot >= 0; dot = name.indexOf(".", dot + 1)) prefixes.add(name.slice(0, dot));
  const names = { packages, prefixes, exports: registry.exports.size, libraries: registry.libraries.length };
  packageNamesOf.set(registry, names);
  return names;
}

/** Lookup of a qualified name through the project's modules and re-exports. */
export function lookupBinding(index: PythonIndex, qualified: string, depth = 0): Val | null {
  if (depth > 8) return null;
  const dot = qualified.lastIndexOf(".");
  if (dot <= 0) return null;
  const module = projectModule(index, qualified.slice(0, dot));
  const name = qualified.slice(dot + 1);
  if (!module) return null;
  const local = module.bindings[name];
  if (local) return bindingVal(local);
  const reexport = module.imports[name];
  return reexport ? (lookupBinding(index, reexport, depth + 1) ?? { k: "export", name: reexport }) : null;
}

function bindingVal(binding: ModuleFacts["bindings"][string]): Val {
  if (binding.kind === "value") return { k: "type", type: binding.type };
  if (binding.kind === "function") return { k: "fn", name: binding.qualified };
  return { k: "class", name: binding.qualified, instance: binding.instance };
}

/** Per-module resolution: imports, module bindings, the registry and the index. */
export class ModuleResolver {
  readonly registry: ModelRegistry;
  readonly closers: string[];
  readonly factories: string[];
  private readonly userReleaseFns: Set<string>;

  constructor(
    readonly index: PythonIndex,
    readonly module: string,
    readonly imports: Record<string, string>,
    registry: ModelRegistry,
    /** Summaries lookup (during the index fixpoint: the current round's). */
    readonly summaryOf: (qualified: string) => PySummary | undefined,
    /** Module-level names bound in this file (index facts may be absent for a file with none). */
    readonly localBindings: ModuleFacts["bindings"],
  ) {
    this.registry = registry;
    this.closers = index.configClosers;
    this.factories = index.configFactories;
    this.userReleaseFns = new Set();
    for (const [name, entry] of registry.exports) if (entry.library === "poolguard.yml" && entry.call?.releasesArgs) this.userReleaseFns.add(name);
  }

  /** A module-level name, an import, or a builtin we know nothing about. */
  name(name: string): Val {
    const local = this.localBindings[name];
    if (local) return bindingVal(local);
    const imported = this.imports[name];
    if (imported !== undefined) return this.qualified(imported);
    return unknown(name);
  }

  /** A dotted name: a model export, a project binding, or a module. */
  qualified(qualified: string): Val {
    if (this.registry.exports.has(qualified)) return { k: "export", name: qualified };
    const project = lookupBinding(this.index, qualified);
    if (project) {
      if (project.k === "export" && !this.registry.exports.has(project.name)) {
        // A re-exported module (`from .compat import sqlite3` where compat does `import sqlite3`).
        if (projectModule(this.index, project.name) || this.isModelPackage(project.name)) return { k: "module", name: project.name };
        return unknown(project.name);
      }
      return project;
    }
    if (projectModule(this.index, qualified) || this.isModelPackage(qualified) || !qualified.includes(".")) return { k: "module", name: qualified };
    // `from .compat import sqlite3` where compat.py was not indexed (it defines nothing): a
    // project module re-exporting a modeled package under the package's own name.
    const last = qualified.slice(qualified.lastIndexOf(".") + 1);
    if (!projectModule(this.index, qualified.slice(0, qualified.lastIndexOf("."))) && this.registry.libraries.some((l) => l.packages.includes(last))) {
      return { k: "module", name: last };
    }
    return unknown(qualified);
  }

  private isModelPackage(qualified: string): boolean {
    const names = packageNames(this.registry);
    return names.packages.has(qualified.split(".")[0]) || names.prefixes.has(qualified);
  }

  /** `a.b` where `a` is a module. */
  member(moduleVal: Val & { k: "module" }, attribute: string): Val {
    return this.qualified(`${moduleVal.name}.${attribute}`);
  }

  facts(type: string | undefined): ResourceFacts | null {
    return resourceOf(this.registry, type);
  }

  typeModel(type: string) {
    return this.registry.types.get(type);
  }

  /** The modeled type an annotation names (`AsyncSession`, `"Session"`, `Optional[Connection]`), if any. */
  annotationType(node: SyntaxNode | null): string | null {
    if (!node) return null;
    let text = node.text.replace(/^["']|["']$/g, "").trim();
    const inner = /^(?:typing\.)?(?:Optional|Annotated)\[([\w.]+)/.exec(text);
    if (inner) text = inner[1];
    text = text.replace(/\s*\|\s*None$/, "");
    if (!/^[\w.]+$/.test(text)) return null;
    const head = text.split(".")[0];
    const qualified = this.imports[head] !== undefined ? `${this.imports[head]}${text.slice(head.length)}` : `${this.module}.${text}`;
    const exp = this.registry.exports.get(qualified);
    if (exp?.type) return exp.type;
    const project = lookupBinding(this.index, qualified);
    if (project?.k === "class" && project.instance) return project.instance;
    return null;
  }

  /** The element type of `AsyncIterator[AsyncSession]` / `Generator[Session, None, None]` annotations. */
  iteratorAnnotationType(node: SyntaxNode | null): string | null {
    if (!node) return null;
    const m = /^(?:typing\.|collections\.abc\.)?(?:Async)?(?:Iterator|Generator|Iterable)\[\s*["']?([\w.]+)/.exec(node.text.trim());
    if (!m) return null;
    const fake = { text: m[1] } as SyntaxNode;
    return this.annotationType(fake);
  }

  /** What calling `val` does. `calleeText` is the source text of the callee, for conventions and config. */
  callFacts(val: Val, calleeText: string): CallFacts | null {
    switch (val.k) {
      case "export": {
        const entry = this.registry.exports.get(val.name);
        if (entry?.call) return { ...entry.call, origin: entry.library === "poolguard.yml" ? "config" : "model" };
        if (entry?.construct) return { ...entry.construct, origin: "model" };
        return this.byConvention(calleeText, val.name);
      }
      case "type": {
        const model = this.registry.types.get(val.type);
        if (model?.call) return { ...model.call, origin: "model" };
        return null;
      }
      case "fn": {
        const summary = this.summaryOf(val.name);
        if (!summary) return this.byConvention(calleeText, val.name);
        return summaryFacts(summary);
      }
      case "class": {
        const init = this.summaryOf(`${val.name}.__init__`);
        return {
          returns: val.instance ?? undefined,
          fresh: val.instance ? true : undefined,
          takesArgs: init ? [...init.takesParams, ...init.releasesParams] : undefined,
          origin: "class",
        };
      }
      case "module":
        return null;
      case "unknown":
        return this.byConvention(calleeText, val.name) ?? (val.name && val.name !== calleeText ? this.byConvention(val.name, val.name) : null);
    }
  }

  private byConvention(calleeText: string, qualified: string): CallFacts | null {
    const last = lastSegment(calleeText);
    if (this.matchesConfig(this.closers, calleeText, qualified)) return { takesArgs: [0], origin: "config" };
    if (this.matchesConfig(this.factories, calleeText, qualified)) return { returns: anySessionType, fresh: true, origin: "config" };
    if (returnsFactoryByName(last)) return { returns: sessionFactoryType, origin: "convention" };
    if (isConventionalFactoryName(last)) return { returns: anySessionType, fresh: true, origin: "convention" };
    return null;
  }

  matchesConfig(configured: readonly string[], callee: string, qualified: string | undefined): boolean {
    return configured.some((entry) => entry === callee || entry === qualified || lastSegment(entry) === lastSegment(callee));
  }

  /** `Session(...)` / `AsyncSession(...)` and the flavour of a conventional factory. */
  static sessionFlavour(type: string): "sync" | "async" | "unknown" {
    if (type === syncSessionType) return "sync";
    if (type === asyncSessionType) return "async";
    return "unknown";
  }
}

export function summaryFacts(summary: PySummary): CallFacts {
  const facts: CallFacts = {
    releasesArgs: summary.releasesParams,
    takesArgs: summary.takesParams,
    invokesArgs: summary.invokesParams,
    entersArgs: summary.entersParams,
    summary,
    origin: "summary",
  };
  if (summary.contextManager) {
    if (summary.yieldsType) facts.enters = summary.yieldsType;
    return facts;
  }
  if (summary.generator) {
    if (summary.yieldsType) facts.generatorOf = summary.yieldsType;
    return facts;
  }
  if (summary.returnsFresh && !summary.memoised) {
    facts.returns = summary.returnsFresh;
    facts.fresh = true;
    facts.awaited = summary.async;
    if (summary.freshElement !== undefined) facts.freshElement = summary.freshElement;
  } else if (summary.returnsFresh ?? summary.returnsType) {
    facts.returns = (summary.returnsFresh ?? summary.returnsType) as string;
    facts.fresh = false;
    facts.awaited = summary.async;
  }
  return facts;
}

/** The value of an expression without a control-flow graph (module level, class bodies, index building). */
export function staticVal(node: SyntaxNode | null | undefined, r: ModuleResolver, locals?: Map<string, Val>): Val {
  if (!node) return unknown();
  switch (node.type) {
    case "identifier":
      return locals?.get(node.text) ?? r.name(node.text);
    case "parenthesized_expression":
    case "await":
      return staticVal(node.namedChildren[0], r, locals);
    case "attribute": {
      const attribute = node.childForFieldName("attribute")?.text ?? "";
      const base = staticVal(node.childForFieldName("object"), r, locals);
      if (base.k === "module") return r.member(base, attribute);
      const type = r.index.attributes[attribute];
      return type ? { k: "type", type } : unknown(attribute);
    }
    case "subscript": {
      const key = node.childrenForFieldName("subscript")[0];
      if (key?.type !== "string") return unknown();
      const text = key.text.replace(/^[rbuf]*["']|["']$/gi, "");
      const type = r.index.keys[text];
      return type ? { k: "type", type } : unknown(text);
    }
    case "call": {
      const fn = node.childForFieldName("function");
      if (!fn) return unknown();
      let val: Val;
      if (fn.type === "attribute") {
        const attribute = fn.childForFieldName("attribute")?.text ?? "";
        const base = staticVal(fn.childForFieldName("object"), r, locals);
        if (base.k === "module") val = r.member(base, attribute);
        else if (base.k === "type") {
          const method = r.typeModel(base.type)?.methods?.[attribute];
          if (method?.returns) return { k: "type", type: method.returns };
          const held = r.index.attributes[attribute];
          val = held ? { k: "type", type: held } : unknown(attribute);
        } else {
          const held = r.index.attributes[attribute];
          val = held ? { k: "type", type: held } : unknown(attribute);
        }
      } else val = staticVal(fn, r, locals);
      const facts = r.callFacts(val, fn.text);
      if (facts?.enters) return { k: "type", type: `cm:${facts.enters}` };
      return facts?.returns ? { k: "type", type: refineReturn(node, facts.returns, r) } : unknown(fn.text);
    }
    default:
      return unknown();
  }
}

/**
 * `sessionmaker(engine, class_=AsyncSession)` is SQLAlchemy 1.4's async factory (there is no
 * async_sessionmaker before 2.0): its sessions need `async with`.
 */
export function refineReturn(call: SyntaxNode, returns: string, r: ModuleResolver): string {
  if (returns !== "sqlalchemy.orm.sessionmaker" && returns !== "sqlalchemy.orm.scoped_session") return returns;
  const args = call.childForFieldName("arguments")?.namedChildren ?? [];
  const cls = args.find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === "class_")?.childForFieldName("value");
  if (!cls) return returns;
  const val = staticVal(cls, r);
  let instance: string | null = null;
  if (val.k === "export") instance = r.registry.exports.get(val.name)?.type ?? null;
  else if (val.k === "class") instance = val.instance;
  const isAsync = instance === asyncSessionType || (instance === null && /AsyncSession$/.test(cls.text));
  if (!isAsync) return returns;
  return returns === "sqlalchemy.orm.sessionmaker" ? "sqlalchemy.ext.asyncio.async_sessionmaker" : "sqlalchemy.ext.asyncio.async_scoped_session";
}
