import type { FunctionSummary } from "../../flow/summaries.ts";

// The project index the Python front end builds in buildIndex (it sees every file) and
// hands to every analyzeFile call, possibly in another worker thread: plain objects and
// arrays only (structured-cloneable).

/** What a module-level name is. */
export type PyBinding =
  /** A value of a modeled type: a sessionmaker instance, an engine, a session created at import time. */
  | { kind: "value"; type: string }
  /** A project function; its summary is in `PythonIndex.summaries` under `qualified`. */
  | { kind: "function"; qualified: string }
  /** A project class; `instance` is the modeled type its instances are (a subclass of Session), if any. */
  | { kind: "class"; qualified: string; instance: string | null };

export type ModuleFacts = {
  module: string;
  isPackage: boolean;
  bindings: Record<string, PyBinding>;
  /** Local name -> "module.name" it was imported from (for re-exports). */
  imports: Record<string, string>;
};

/** A project function's summary, with what Python adds to the language-neutral one. */
export type PySummary = FunctionSummary & {
  /** @contextmanager / @asynccontextmanager: calling it returns a context manager yielding `yieldsType`. */
  contextManager: boolean;
  /** @lru_cache / @cache / @cached_property: one shared result, never a fresh one per call. */
  memoised: boolean;
  /** A generator (sync or async): calling it returns a generator object. */
  generator: boolean;
  /** The type of what the generator yields (fresh or managed), for `with cm() as s` and `for s in gen()`. */
  yieldsType: string | null;
  /** Parameters it enters (`await cm.__aenter__()`) without exiting: the caller now owes the exit. */
  entersParams: number[];
  /** Parameter names (`self`/`cls` excluded), to map keyword arguments to positions. */
  params: string[];
  /** `return conn, conn.cursor()`: the position of the fresh resource in the returned tuple. */
  freshElement?: number;
  /** `def retry(f): ... return f()`: it returns what calling parameter N returns (a retry or throttle wrapper). */
  returnsCallOf?: number;
};

export type PythonIndex = {
  modules: Record<string, ModuleFacts>;
  /** Attribute names bound to a modeled value anywhere (`self.session_factory = sessionmaker(...)`, `app.state.db = ...`). */
  attributes: Record<string, string>;
  /** Subscript keys a modeled value is stored under (`context.bot_data["db_session_factory"] = factory`). */
  keys: Record<string, string>;
  /** Project function summaries by qualified name ("app.db.get_conn", "app.repo.Repo.open"). */
  summaries: Record<string, PySummary>;
  /** Regular-expression source: a file that matches nothing of it cannot hold an acquisition, a factory or a ban. */
  literals: string;
  configFactories: string[];
  configClosers: string[];
  /**
   * Import names of modules under a source root (`src/`, `lib/`, `python/` without an
   * `__init__.py`): "app.db" -> "src.app.db", the name the module is indexed under.
   */
  moduleAliases: Record<string, string>;
};
