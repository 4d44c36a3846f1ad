import type { LibraryModel } from "../../flow/models.ts";

// sqlite3 (standard library). `with conn:` commits or rolls back but does NOT close the
// connection (`with sqlite3.connect(p) as conn:` leaks it), so the closing forms are
// try/finally and `contextlib.closing`. pysqlite3 (0.4-0.5) is the same module built
// against a newer SQLite, imported as a drop-in (`import pysqlite3 as sqlite3`).
export const sqlite3: LibraryModel = {
  id: "sqlite3",
  language: "python",
  versions: "Python >=3.8 <3.14; pysqlite3 >=0.4 <0.6",
  packages: ["sqlite3", "pysqlite3"],
  exports: {
    "sqlite3.connect": { call: { returns: "sqlite3.Connection" } },
    "sqlite3.Connection": { call: { returns: "sqlite3.Connection" }, type: "sqlite3.Connection" },
    "sqlite3.dbapi2.connect": { call: { returns: "sqlite3.Connection" } },
    "pysqlite3.connect": { call: { returns: "sqlite3.Connection" } },
    "pysqlite3.dbapi2.connect": { call: { returns: "sqlite3.Connection" } },
  },
  types: [
    {
      name: "sqlite3.Connection",
      resource: { rule: "connection-not-closed", noun: "connection", releaseMethods: ["close"], releaseAwait: "never", protocols: ["try-finally"], finallyRelease: "close", withKeepsOpen: true },
    },
  ],
};
