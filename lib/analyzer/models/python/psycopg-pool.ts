import type { LibraryModel, ResourceFacts } from "../../flow/models.ts";

// psycopg_pool: `with pool.connection() as conn` is managed; `pool.getconn()` must go back
// with `pool.putconn(conn)`.
const pooled: ResourceFacts = { rule: "connection-not-closed", noun: "pooled connection", releaseMethods: [], releaseAwait: "never", protocols: ["try-finally"], finallyRelease: "{receiver}.putconn({name})" };

export const psycopgPool: LibraryModel = {
  id: "psycopg_pool",
  language: "python",
  versions: ">=3.1 <4",
  packages: ["psycopg_pool"],
  exports: {
    "psycopg_pool.ConnectionPool": { call: { returns: "psycopg_pool.ConnectionPool" }, type: "psycopg_pool.ConnectionPool" },
    "psycopg_pool.AsyncConnectionPool": { call: { returns: "psycopg_pool.AsyncConnectionPool" }, type: "psycopg_pool.AsyncConnectionPool" },
  },
  types: [
    {
      name: "psycopg_pool.ConnectionPool",
      methods: { getconn: { returns: "psycopg_pool.PooledConnection" }, putconn: { releasesArgs: [0] }, connection: { returns: "psycopg_pool.ConnectionCM" } },
    },
    {
      name: "psycopg_pool.AsyncConnectionPool",
      methods: { getconn: { returns: "psycopg_pool.AsyncPooledConnection", awaited: true }, putconn: { releasesArgs: [0] }, connection: { returns: "psycopg_pool.AsyncConnectionCM" } },
    },
    { name: "psycopg_pool.PooledConnection", resource: pooled },
    { name: "psycopg_pool.AsyncPooledConnection", resource: { ...pooled, releaseAwait: "always", finallyRelease: "await {receiver}.putconn({name})" } },
    { name: "psycopg_pool.ConnectionCM", enters: "psycopg.Connection" },
    { name: "psycopg_pool.AsyncConnectionCM", enters: "psycopg.AsyncConnection" },
  ],
};
