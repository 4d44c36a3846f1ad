import type { CallModel, LibraryModel } from "../../flow/models.ts";

// asyncpg: `await asyncpg.connect()` must be closed; `pool.acquire()` is an async context
// manager, or awaited and given back with `await pool.release(conn)`. Unawaited, it is that
// context manager: entering it by hand (`await cm.__aenter__()`) yields the pooled
// connection and owes `cm.__aexit__()`. `conn.transaction()` only builds the transaction
// object (no I/O until it is started).
const connectionMethods: Record<string, CallModel> = { transaction: { returns: "asyncpg.transaction.Transaction", pure: true } };

export const asyncpg: LibraryModel = {
  id: "asyncpg",
  language: "python",
  versions: ">=0.20 <1",
  packages: ["asyncpg"],
  exports: {
    "asyncpg.connect": { call: { returns: "asyncpg.Connection", awaited: true } },
    "asyncpg.create_pool": { call: { returns: "asyncpg.Pool", awaited: true } },
    "asyncpg.Pool": { type: "asyncpg.Pool" },
    "asyncpg.pool.Pool": { type: "asyncpg.Pool" },
    "asyncpg.Connection": { type: "asyncpg.Connection" },
  },
  types: [
    {
      name: "asyncpg.Connection",
      resource: { rule: "connection-not-closed", noun: "connection", releaseMethods: ["close", "terminate"], releaseAwait: "always", protocols: ["try-finally"], finallyRelease: "close" },
      methods: connectionMethods,
    },
    { name: "asyncpg.Pool", methods: { acquire: { returns: "asyncpg.PoolConnection", awaited: true }, release: { releasesArgs: [0] } } },
    {
      name: "asyncpg.PoolConnection",
      resource: { rule: "connection-not-closed", noun: "pooled connection", releaseMethods: ["close", "terminate"], releaseAwait: "always", protocols: ["try-finally"], finallyRelease: "await {receiver}.release({name})" },
      methods: connectionMethods,
    },
    { name: "asyncpg.transaction.Transaction" },
  ],
};
