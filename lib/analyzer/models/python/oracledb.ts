import type { LibraryModel, ResourceFacts } from "../../flow/models.ts";

// python-oracledb (and cx_Oracle 8): `with oracledb.connect() as conn` closes on exit;
// pooled connections go back with close() or `pool.release(conn)`.
const connection: ResourceFacts = { rule: "connection-not-closed", noun: "connection", releaseMethods: ["close"], releaseAwait: "never", protocols: ["with", "try-finally"], finallyRelease: "close" };

export const oracledb: LibraryModel = {
  id: "oracledb",
  language: "python",
  versions: "oracledb >=1 <4, cx_Oracle >=8",
  packages: ["oracledb", "cx_Oracle"],
  exports: {
    "oracledb.connect": { call: { returns: "oracledb.Connection" } },
    "oracledb.connect_async": { call: { returns: "oracledb.AsyncConnection", awaited: true } },
    "oracledb.create_pool": { call: { returns: "oracledb.ConnectionPool" } },
    "cx_Oracle.connect": { call: { returns: "oracledb.Connection" } },
    "cx_Oracle.SessionPool": { call: { returns: "oracledb.ConnectionPool" } },
  },
  types: [
    { name: "oracledb.Connection", resource: connection },
    { name: "oracledb.AsyncConnection", resource: { ...connection, releaseAwait: "always", protocols: ["async-with", "try-finally"] } },
    { name: "oracledb.ConnectionPool", methods: { acquire: { returns: "oracledb.Connection" }, release: { releasesArgs: [0] } } },
  ],
};
