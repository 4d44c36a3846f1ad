import type { LibraryModel } from "../../flow/models.ts";

// PyMySQL >= 1.0: `with conn:` closes the connection on exit.
export const pymysql: LibraryModel = {
  id: "pymysql",
  language: "python",
  versions: ">=1.0 <2",
  packages: ["pymysql"],
  exports: {
    "pymysql.connect": { call: { returns: "pymysql.connections.Connection" } },
    "pymysql.Connect": { call: { returns: "pymysql.connections.Connection" } },
    "pymysql.Connection": { call: { returns: "pymysql.connections.Connection" }, type: "pymysql.connections.Connection" },
    "pymysql.connections.Connection": { call: { returns: "pymysql.connections.Connection" }, type: "pymysql.connections.Connection" },
  },
  types: [
    {
      name: "pymysql.connections.Connection",
      resource: { rule: "connection-not-closed", noun: "connection", releaseMethods: ["close"], releaseAwait: "never", protocols: ["with", "try-finally"], finallyRelease: "close" },
    },
  ],
};
