import type { LibraryModel, ResourceFacts } from "../../flow/models.ts";

// psycopg2. `with conn:` ends a transaction and leaves the connection open (documented
// since 2.5: "the connection is not closed by the context"): no `with` fix, and a `with`
// block is not a close. Pools hand out connections that go back with `pool.putconn(conn)`.
const connection: ResourceFacts = { rule: "connection-not-closed", noun: "connection", releaseMethods: ["close"], releaseAwait: "never", protocols: ["try-finally"], finallyRelease: "close", withKeepsOpen: true };

const pool = { getconn: { returns: "psycopg2.pool.PooledConnection" }, putconn: { releasesArgs: [0] } };

export const psycopg2: LibraryModel = {
  id: "psycopg2",
  language: "python",
  versions: ">=2.7 <3",
  packages: ["psycopg2"],
  exports: {
    "psycopg2.connect": { call: { returns: "psycopg2.extensions.connection" } },
    "psycopg2.extensions.connection": { type: "psycopg2.extensions.connection" },
    "psycopg2.pool.SimpleConnectionPool": { call: { returns: "psycopg2.pool.AbstractConnectionPool" } },
    "psycopg2.pool.ThreadedConnectionPool": { call: { returns: "psycopg2.pool.AbstractConnectionPool" } },
    "psycopg2.pool.AbstractConnectionPool": { type: "psycopg2.pool.AbstractConnectionPool" },
  },
  types: [
    { name: "psycopg2.extensions.connection", resource: connection },
    { name: "psycopg2.pool.AbstractConnectionPool", methods: pool },
    // Closing a pooled connection does not return it to the pool: only putconn does.
    { name: "psycopg2.pool.PooledConnection", resource: { ...connection, releaseMethods: [], finallyRelease: "{receiver}.putconn({name})" } },
  ],
};
