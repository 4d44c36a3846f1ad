import type { LibraryModel } from "../../flow/models.ts";

// MongoDB driver: `client.startSession()` returns a ClientSession that holds a server
// session until `endSession()`; `startTransaction()` on it cannot fail in a way that
// leaves anything to end; `withTransaction(fn)` runs fn now.
export const mongodb: LibraryModel = {
  id: "mongodb",
  language: "typescript",
  versions: ">=4 <7",
  packages: ["mongodb"],
  exports: {
    "mongodb.MongoClient": { construct: { returns: "mongodb.MongoClient", fresh: false } },
  },
  types: [
    {
      name: "mongodb.MongoClient",
      methods: {
        startSession: { returns: "mongodb.ClientSession", fresh: true },
        withSession: { invokesArgs: [{ index: -1, when: "now" }] },
      },
    },
    {
      name: "mongodb.ClientSession",
      resource: {
        rule: "mongoose-session-not-ended",
        noun: "session",
        releaseMethods: ["endSession"],
        releaseAwait: "when-async",
        protocols: ["try-finally"],
        finallyRelease: "endSession",
      },
      methods: {
        startTransaction: { setup: true },
        withTransaction: { invokesArgs: [{ index: 0, when: "now" }] },
      },
    },
  ],
  conventions: [
    {
      method: "startSession",
      type: "mongodb.MongoClient",
      fileMentions: "\\b(mongoose|mongodb|MongoClient|withTransaction|startTransaction|endSession|abortTransaction)\\b",
    },
  ],
};
