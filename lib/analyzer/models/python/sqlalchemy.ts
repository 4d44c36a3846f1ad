import type { CallModel, LibraryModel, ResourceFacts } from "../../flow/models.ts";

// SQLAlchemy, sync and asyncio. Sessions come from `Session(...)`/`AsyncSession(...)` and
// from calling a `sessionmaker`/`async_sessionmaker` instance; `scoped_session` registries
// hand out a session they own (borrowed; `registry.remove()` ends it). Engines own a pool
// (created once per process: engine-per-call); `engine.connect()` / `raw_connection()`
// check a connection out of it; `engine.begin()` / `sessionmaker.begin()` are context
// managers that yield an already managed connection / session.

const session: ResourceFacts = {
  rule: "session-not-closed",
  noun: "session",
  releaseMethods: ["close", "invalidate"],
  releaseAwait: "never",
  protocols: ["with", "try-finally"],
  finallyRelease: "close",
};

const asyncSession: ResourceFacts = { ...session, releaseAwait: "always", protocols: ["async-with", "try-finally"] };

/** A session whose flavour the code does not say (a conventional factory name, `sessions.factories`): both `with` forms exist. */
const anySession: ResourceFacts = { ...session, releaseAwait: "when-async", protocols: ["with", "async-with", "try-finally"] };

const connection: ResourceFacts = {
  rule: "connection-not-closed",
  noun: "connection",
  releaseMethods: ["close", "invalidate", "detach"],
  releaseAwait: "never",
  protocols: ["with", "try-finally"],
  finallyRelease: "close",
};

const engine: ResourceFacts = {
  rule: "engine-per-call",
  noun: "engine",
  releaseMethods: ["dispose"],
  releaseAwait: "never",
  protocols: [],
  finallyRelease: "dispose",
};

const sessionMethods: Record<string, CallModel> = {
  begin: { returns: "sqlalchemy.orm.SessionTransaction" },
  connection: { returns: "sqlalchemy.engine.Connection", fresh: false },
};

const engineMethods: Record<string, CallModel> = {
  connect: { returns: "sqlalchemy.engine.Connection" },
  raw_connection: { returns: "sqlalchemy.engine.PoolProxiedConnection" },
  begin: { returns: "sqlalchemy.engine.EngineBegin" },
};

export const sqlalchemy: LibraryModel = {
  id: "sqlalchemy",
  language: "python",
  versions: ">=1.4 <2.1",
  packages: ["sqlalchemy"],
  exports: {
    "sqlalchemy.create_engine": { call: { returns: "sqlalchemy.engine.Engine" } },
    "sqlalchemy.engine.create_engine": { call: { returns: "sqlalchemy.engine.Engine" } },
    "sqlalchemy.engine_from_config": { call: { returns: "sqlalchemy.engine.Engine" } },
    "sqlalchemy.ext.asyncio.create_async_engine": { call: { returns: "sqlalchemy.ext.asyncio.AsyncEngine" } },
    "sqlalchemy.ext.asyncio.async_engine_from_config": { call: { returns: "sqlalchemy.ext.asyncio.AsyncEngine" } },
    "sqlalchemy.orm.sessionmaker": { call: { returns: "sqlalchemy.orm.sessionmaker" }, type: "sqlalchemy.orm.sessionmaker" },
    "sqlalchemy.orm.session.sessionmaker": { call: { returns: "sqlalchemy.orm.sessionmaker" }, type: "sqlalchemy.orm.sessionmaker" },
    "sqlalchemy.ext.asyncio.async_sessionmaker": { call: { returns: "sqlalchemy.ext.asyncio.async_sessionmaker" }, type: "sqlalchemy.ext.asyncio.async_sessionmaker" },
    "sqlalchemy.orm.scoped_session": { call: { returns: "sqlalchemy.orm.scoped_session" } },
    "sqlalchemy.ext.asyncio.async_scoped_session": { call: { returns: "sqlalchemy.ext.asyncio.async_scoped_session" } },
    "sqlalchemy.orm.Session": { call: { returns: "sqlalchemy.orm.Session" }, type: "sqlalchemy.orm.Session" },
    "sqlalchemy.orm.session.Session": { call: { returns: "sqlalchemy.orm.Session" }, type: "sqlalchemy.orm.Session" },
    "sqlalchemy.ext.asyncio.AsyncSession": { call: { returns: "sqlalchemy.ext.asyncio.AsyncSession" }, type: "sqlalchemy.ext.asyncio.AsyncSession" },
    "sqlalchemy.ext.asyncio.session.AsyncSession": { call: { returns: "sqlalchemy.ext.asyncio.AsyncSession" }, type: "sqlalchemy.ext.asyncio.AsyncSession" },
    "sqlalchemy.engine.Engine": { type: "sqlalchemy.engine.Engine" },
    "sqlalchemy.engine.Connection": { type: "sqlalchemy.engine.Connection" },
    "sqlalchemy.ext.asyncio.AsyncEngine": { type: "sqlalchemy.ext.asyncio.AsyncEngine" },
    "sqlalchemy.ext.asyncio.AsyncConnection": { type: "sqlalchemy.ext.asyncio.AsyncConnection" },
    "sqlalchemy.ext.asyncio.greenlet_spawn": { call: { invokesArgs: [{ index: 0, when: "now" }] } },
    "sqlalchemy.util.greenlet_spawn": { call: { invokesArgs: [{ index: 0, when: "now" }] } },
  },
  types: [
    { name: "sqlalchemy.orm.Session", resource: session, methods: sessionMethods },
    { name: "sqlalchemy.ext.asyncio.AsyncSession", resource: asyncSession, methods: sessionMethods },
    { name: "sqlalchemy.AnySession", resource: anySession, methods: sessionMethods },
    { name: "sqlalchemy.orm.sessionmaker", call: { returns: "sqlalchemy.orm.Session" }, methods: { begin: { returns: "sqlalchemy.orm.SessionBegin" } } },
    { name: "sqlalchemy.ext.asyncio.async_sessionmaker", call: { returns: "sqlalchemy.ext.asyncio.AsyncSession" }, methods: { begin: { returns: "sqlalchemy.ext.asyncio.AsyncSessionBegin" } } },
    { name: "sqlalchemy.AnySessionFactory", call: { returns: "sqlalchemy.AnySession" }, methods: { begin: { returns: "sqlalchemy.orm.SessionBegin" } } },
    // A registry: calling it returns the session it keeps for this thread/task (borrowed).
    // One built per call by a project helper (`def create_scoped_session(): return
    // scoped_session(maker)`) belongs to the caller, who must remove() it.
    {
      name: "sqlalchemy.orm.scoped_session",
      call: { returns: "sqlalchemy.orm.Session", fresh: false },
      methods: { remove: { releasesReceiver: true } },
      perCallOwned: "sqlalchemy.orm.OwnedScopedSession",
    },
    {
      name: "sqlalchemy.ext.asyncio.async_scoped_session",
      call: { returns: "sqlalchemy.ext.asyncio.AsyncSession", fresh: false },
      methods: { remove: { releasesReceiver: true } },
      perCallOwned: "sqlalchemy.ext.asyncio.OwnedAsyncScopedSession",
    },
    // No fix: a registry is not a context manager, and a try/finally remove() has not been executed in the fix tests.
    // Its one session is what the registry holds: closing that session (`Session().close()`)
    // returns the registry's connection, like `Session.remove()` does. Making that session
    // connects nothing yet (a Session checks a connection out on its first query).
    {
      name: "sqlalchemy.orm.OwnedScopedSession",
      resource: { ...session, releaseMethods: ["remove", "close"], protocols: [], finallyRelease: "remove" },
      call: { returns: "sqlalchemy.orm.Session", fresh: false, returnsItself: true, pure: true },
    },
    {
      name: "sqlalchemy.ext.asyncio.OwnedAsyncScopedSession",
      resource: { ...asyncSession, releaseMethods: ["remove", "close"], protocols: [], finallyRelease: "remove" },
      call: { returns: "sqlalchemy.ext.asyncio.AsyncSession", fresh: false, returnsItself: true, pure: true },
    },
    { name: "sqlalchemy.orm.SessionBegin", enters: "sqlalchemy.orm.Session" },
    { name: "sqlalchemy.ext.asyncio.AsyncSessionBegin", enters: "sqlalchemy.ext.asyncio.AsyncSession" },
    { name: "sqlalchemy.orm.SessionTransaction" },
    { name: "sqlalchemy.engine.Engine", resource: engine, methods: engineMethods },
    {
      name: "sqlalchemy.ext.asyncio.AsyncEngine",
      resource: { ...engine, releaseAwait: "always" },
      methods: {
        connect: { returns: "sqlalchemy.ext.asyncio.AsyncConnection", awaited: true },
        begin: { returns: "sqlalchemy.ext.asyncio.AsyncEngineBegin" },
        raw_connection: { returns: "sqlalchemy.engine.PoolProxiedConnection", awaited: true },
      },
    },
    { name: "sqlalchemy.engine.EngineBegin", enters: "sqlalchemy.engine.Connection" },
    { name: "sqlalchemy.ext.asyncio.AsyncEngineBegin", enters: "sqlalchemy.ext.asyncio.AsyncConnection" },
    { name: "sqlalchemy.engine.Connection", resource: connection, methods: { begin: { returns: "sqlalchemy.engine.Transaction" } } },
    { name: "sqlalchemy.ext.asyncio.AsyncConnection", resource: { ...connection, releaseAwait: "always", protocols: ["async-with", "try-finally"] } },
    // raw_connection(): the DB-API connection proxied by the pool; not a context manager.
    { name: "sqlalchemy.engine.PoolProxiedConnection", resource: { ...connection, protocols: ["try-finally"] } },
    { name: "sqlalchemy.engine.Transaction" },
  ],
};
