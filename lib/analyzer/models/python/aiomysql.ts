import type { LibraryModel } from "../../flow/models.ts";

// aiomysql: `await aiomysql.connect()` (close() is synchronous, ensure_closed() awaited);
// pools hand out connections that go back with `pool.release(conn)`.
export const aiomysql: LibraryModel = {
  id: "aiomysql",
  language: "python",
  versions: ">=0.1 <1",
  packages: ["aiomysql"],
  exports: {
    "aiomysql.connect": { call: { returns: "aiomysql.Connection", awaited: true } },
    "aiomysql.create_pool": { call: { returns: "aiomysql.Pool", awaited: true } },
  },
  types: [
    {
      name: "aiomysql.Connection",
      resource: { rule: "connection-not-closed", noun: "connection", releaseMethods: ["close", "ensure_closed"], releaseAwait: "never", protocols: ["try-finally"], finallyRelease: "close" },
    },
    { name: "aiomysql.Pool", methods: { acquire: { returns: "aiomysql.PoolConnection", awaited: true }, release: { releasesArgs: [0] } } },
    {
      name: "aiomysql.PoolConnection",
      resource: { rule: "connection-not-closed", noun: "pooled connection", releaseMethods: ["close", "ensure_closed"], releaseAwait: "never", protocols: ["try-finally"], finallyRelease: "{receiver}.release({name})" },
    },
  ],
};
