import type { LibraryModel } from "../../flow/models.ts";

// aiosqlite: `async with aiosqlite.connect(path) as db` closes on exit.
export const aiosqlite: LibraryModel = {
  id: "aiosqlite",
  language: "python",
  versions: ">=0.17 <1",
  packages: ["aiosqlite"],
  exports: {
    "aiosqlite.connect": { call: { returns: "aiosqlite.Connection", awaited: true } },
  },
  types: [
    {
      name: "aiosqlite.Connection",
      resource: { rule: "connection-not-closed", noun: "connection", releaseMethods: ["close"], releaseAwait: "always", protocols: ["async-with", "try-finally"], finallyRelease: "close" },
    },
  ],
};
