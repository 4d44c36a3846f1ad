import type { LibraryModel } from "../../flow/models.ts";

// pyodbc: `with conn:` commits (unless autocommit) and leaves the connection open, so a
// `with` block is not a close; close() releases it.
export const pyodbc: LibraryModel = {
  id: "pyodbc",
  language: "python",
  versions: ">=4 <6",
  packages: ["pyodbc"],
  exports: { "pyodbc.connect": { call: { returns: "pyodbc.Connection" } } },
  types: [
    {
      name: "pyodbc.Connection",
      resource: { rule: "connection-not-closed", noun: "connection", releaseMethods: ["close"], releaseAwait: "never", protocols: ["try-finally"], finallyRelease: "close", withKeepsOpen: true },
    },
  ],
};
