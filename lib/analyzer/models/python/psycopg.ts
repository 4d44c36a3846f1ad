import type { LibraryModel, ResourceFacts } from "../../flow/models.ts";

// psycopg 3: connections are context managers that close on exit (sync and async).
const connection: ResourceFacts = { rule: "connection-not-closed", noun: "connection", releaseMethods: ["close"], releaseAwait: "never", protocols: ["with", "try-finally"], finallyRelease: "close" };

export const psycopg: LibraryModel = {
  id: "psycopg",
  language: "python",
  versions: ">=3.0 <4",
  packages: ["psycopg"],
  exports: {
    "psycopg.connect": { call: { returns: "psycopg.Connection" } },
    "psycopg.Connection.connect": { call: { returns: "psycopg.Connection" } },
    "psycopg.Connection": { type: "psycopg.Connection" },
    "psycopg.AsyncConnection.connect": { call: { returns: "psycopg.AsyncConnection", awaited: true } },
    "psycopg.AsyncConnection": { type: "psycopg.AsyncConnection" },
  },
  types: [
    { name: "psycopg.Connection", resource: connection },
    { name: "psycopg.AsyncConnection", resource: { ...connection, releaseAwait: "always", protocols: ["async-with", "try-finally"] } },
  ],
};
