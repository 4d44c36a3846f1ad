import type { LibraryModel } from "../../flow/models.ts";

// mysqlclient (MySQLdb): close() releases; no `with` fix is offered.
export const mysqlclient: LibraryModel = {
  id: "mysqlclient",
  language: "python",
  versions: ">=1.4 <3",
  packages: ["MySQLdb"],
  exports: {
    "MySQLdb.connect": { call: { returns: "MySQLdb.connections.Connection" } },
    "MySQLdb.Connect": { call: { returns: "MySQLdb.connections.Connection" } },
    "MySQLdb.Connection": { call: { returns: "MySQLdb.connections.Connection" }, type: "MySQLdb.connections.Connection" },
  },
  types: [
    {
      name: "MySQLdb.connections.Connection",
      resource: { rule: "connection-not-closed", noun: "connection", releaseMethods: ["close"], releaseAwait: "never", protocols: ["try-finally"], finallyRelease: "close" },
    },
  ],
};
