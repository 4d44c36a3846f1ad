import type { Language, RuleId } from "../types.ts";

// Library models as data. For each supported library: which calls produce which kinds
// of objects, which of those objects are resources that must be released (and by which
// rule they are reported), which calls release them, which calls take ownership, and
// which parents free which children. Supporting a new library is one data file under
// lib/analyzer/models/<language>/ listed in that folder's index.ts; users add their own
// pairs in poolguard.yml (`resources:`), merged in by userModels().
//
// Types are named by a qualified string ("sqlalchemy.orm.Session", "pg.PoolClient").
// Front ends resolve a call to a qualified export (through imports, aliases and the
// project's own bindings), then follow `returns` through `types`.

/** What a fix may rely on: the object really supports this protocol. */
export type Protocol = "with" | "async-with" | "using" | "await-using" | "try-finally";

export type ResourceFacts = {
  /** The rule that reports a leak of this resource. */
  rule: RuleId;
  /** Short noun for messages: "session", "connection", "pool client", "query runner", "transaction". */
  noun: string;
  /** Methods on the object that end it (`close`, `release`, `end`, `dispose`, `endSession`, `commit`/`rollback` for transactions). */
  releaseMethods: string[];
  /** Whether the release call must be awaited: "always" (async API), "never", or "when-async" (both flavours exist). */
  releaseAwait: "always" | "never" | "when-async";
  /** Protocols the object supports, strongest first; the safe fix uses the first one the code allows. */
  protocols: Protocol[];
  /** The statement a try/finally fix puts in `finally` (`release`, `close`, `endSession`); null: no try/finally fix. */
  finallyRelease: string | null;
  /** Releasing the object also releases what it produced (an engine's connections, a data source's runners). */
  releasesChildren?: boolean;
  /**
   * `with obj:` only ends a transaction and leaves the object open (sqlite3, psycopg2 and pyodbc
   * connections): a `with` block is not a release. Default false (the context manager releases it).
   */
  withKeepsOpen?: boolean;
  /**
   * Making the object takes nothing yet: it takes its connection on first use (connect, a
   * query, its manager). An exception before any use leaks nothing; a never-released object
   * is still reported. Default false.
   */
  holdsOnFirstUse?: boolean;
};

export type CallModel = {
  /** Qualified type of the value returned (after `await` when `awaited`). */
  returns?: string;
  /** The returned value is a fresh resource the caller owns (false: borrowed from a registry/pool that owns it). Default true when the type is a resource. */
  fresh?: boolean;
  /** The call's promise/coroutine must be awaited to get `returns` (asyncpg.connect, pool.connect()). */
  awaited?: boolean;
  /** This call ends the receiver (like a release method) — for calls not named in releaseMethods (`greenlet_spawn(conn.close)` is handled by front ends). */
  releasesReceiver?: boolean;
  /** Argument positions this call releases (`pool.release(conn)`, `pool.putconn(conn)`). */
  releasesArgs?: number[];
  /** Argument positions this call takes ownership of (`stack.enter_context(cm)`, `Promise.resolve`...). */
  takesArgs?: number[];
  /** The returned value is a child of the receiver (freed when the receiver is released). */
  childOfReceiver?: boolean;
  /**
   * Calling the object hands back the resource the object itself stands for (an owned
   * `scoped_session` registry's one session): releasing the result releases the object.
   */
  returnsItself?: boolean;
  /** Calls its function argument(s) at these positions (negative: from the end, -1 = last): now (synchronously), later, or maybe. */
  invokesArgs?: { index: number; when: "now" | "later" | "maybe" }[];
  /**
   * A setup call on a resource right after acquiring it (`queryRunner.connect()`, `client.connect()`,
   * `session.startTransaction()`): when it fails there is nothing the caller must release yet, so it
   * adds no exception path for leak purposes.
   */
  setup?: boolean;
  /** Starts a resource that lives on the receiver (`queryRunner.startTransaction()` opens a transaction): its type. */
  opens?: string;
  /** Ends the resource of this type that lives on the receiver (`queryRunner.commitTransaction()`). */
  closes?: string;
  /**
   * The call only builds an object in memory (asyncpg's `conn.transaction()`): it does no I/O
   * and does not raise in practice, so it adds no exception path between an acquisition and
   * the `try` that releases it. Default false.
   */
  pure?: boolean;
  /** With a function argument the call manages the resource itself (`knex.transaction(async (trx) => ...)`): no acquisition. */
  managedWithCallback?: boolean;
  /**
   * Callback style: the last argument is called with the fresh resource at parameter `param`
   * (`pool.connect((err, client, done) => ...)`); `releaseParam` is a function parameter that releases it.
   */
  yieldsToCallback?: { param: number; releaseParam?: number };
};

export type TypeModel = {
  /** Qualified name, e.g. "sqlalchemy.orm.Session". */
  name: string;
  /** Present when owned instances must be released. */
  resource?: ResourceFacts;
  /** Calling the value itself (a sessionmaker instance, a factory function). */
  call?: CallModel;
  /** Methods by name. Methods not listed are plain uses of the object. */
  methods?: Record<string, CallModel>;
  /** Is a context manager / disposable whose `with` yields this type (e.g. `engine.begin()` yields a Connection, already managed). */
  enters?: string;
  /**
   * For shared registries (`scoped_session`): a project function that builds a new one on every
   * call and returns it hands its caller an owned object of this type (which must be released).
   */
  perCallOwned?: string;
};

export type LibraryModel = {
  /** Stable id, e.g. "sqlalchemy", "pg". */
  id: string;
  language: Language;
  /** The releases this knowledge was checked against (semver range), e.g. ">=1.4 <3". */
  versions: string;
  /** Python top-level modules / npm package names that bring these exports into a file. */
  packages: string[];
  /** Qualified exports: "sqlalchemy.create_engine", "pg.Pool" (a class: `construct`), "psycopg2.connect". */
  exports: Record<string, { call?: CallModel; construct?: CallModel; type?: string }>;
  types: TypeModel[];
  /**
   * How to recognise this library's objects when their origin is out of sight (a pool injected
   * through a constructor, `this.dataSource`): a method call on a receiver of unknown type whose
   * method (and, when given, receiver's last name segment, case-insensitive regex) match gives the
   * receiver this type; `construct` matches `new Name()` by the constructor's name (regex). `fileMentions`
   * (regex) limits it to files that speak the library's vocabulary.
   */
  conventions?: { method?: string; receiver?: string; construct?: string; type: string; fileMentions?: string }[];
};

/** A user's own acquire/release pair from `resources:` in poolguard.yml. */
export type UserResource = {
  /** Qualified callable that returns the resource ("myapp.db.open_session", "lib/db#openClient"). */
  acquire: string;
  /** Method names on the resource, or qualified functions taking it as first argument, that release it. */
  release: string[];
  /** The rule that reports it (default by language: session-not-closed / pool-client-not-released). */
  rule?: RuleId;
  /** Whether `acquire` must be awaited. */
  awaited?: boolean;
  /** Protocols it supports (default none: no safe wrapping fix, only try/finally when release is a method). */
  protocols?: Protocol[];
};

export type ModelRegistry = {
  exports: Map<string, { call?: CallModel; construct?: CallModel; type?: string; library: string }>;
  types: Map<string, TypeModel & { library: string }>;
  libraries: LibraryModel[];
};

export function buildRegistry(libraries: readonly LibraryModel[]): ModelRegistry {
  const registry: ModelRegistry = { exports: new Map(), types: new Map(), libraries: [...libraries] };
  for (const library of libraries) {
    for (const [name, entry] of Object.entries(library.exports)) registry.exports.set(name, { ...entry, library: library.id });
    for (const type of library.types) registry.types.set(type.name, { ...type, library: library.id });
  }
  return registry;
}

/** Turn `resources:` entries into a library model, so users' pairs go through the same code as built-in ones. */
export function userModels(language: Language, entries: readonly UserResource[]): LibraryModel {
  const defaultRule: RuleId = language === "python" ? "session-not-closed" : "pool-client-not-released";
  const model: LibraryModel = { id: "poolguard.yml", language, versions: "*", packages: [], exports: {}, types: [] };
  entries.forEach((entry, i) => {
    const typeName = `user.resource.${i}`;
    const methods = entry.release.filter((r) => !r.includes(".") && !r.includes("#") && !r.includes("/"));
    const functions = entry.release.filter((r) => !methods.includes(r));
    model.exports[entry.acquire] = { call: { returns: typeName, awaited: entry.awaited ?? false, fresh: true } };
    for (const fn of functions) model.exports[fn] = { call: { releasesArgs: [0] } };
    model.types.push({
      name: typeName,
      resource: {
        rule: entry.rule ?? defaultRule,
        noun: "resource",
        releaseMethods: methods,
        releaseAwait: "when-async",
        protocols: entry.protocols ?? (methods.length > 0 ? ["try-finally"] : []),
        finallyRelease: methods[0] ?? null,
      },
    });
  });
  return model;
}

/** The resource facts of a type, if instances must be released. */
export function resourceOf(registry: ModelRegistry, typeName: string | undefined): ResourceFacts | null {
  if (!typeName) return null;
  return registry.types.get(typeName)?.resource ?? null;
}
