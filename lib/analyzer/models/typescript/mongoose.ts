import type { LibraryModel } from "../../flow/models.ts";

// mongoose: `mongoose.startSession()`, `connection.startSession()` and
// `Model.startSession()` return a promise of a MongoDB ClientSession (see mongodb.ts), in
// every release from 5.2 (where they appeared) to 8: awaited, or handed to `.then(cb)`,
// whose callback then owns the session. (The driver's `client.startSession()` is
// synchronous.) `connection.transaction(fn)` manages its own session.
export const mongoose: LibraryModel = {
  id: "mongoose",
  language: "typescript",
  versions: ">=5.2 <9",
  packages: ["mongoose"],
  exports: {
    "mongoose.startSession": { call: { returns: "mongodb.ClientSession", fresh: true, awaited: true } },
    "mongoose.connection": { type: "mongoose.Connection" },
    "mongoose.createConnection": { call: { returns: "mongoose.Connection", fresh: false } },
  },
  types: [
    {
      name: "mongoose.Connection",
      methods: {
        startSession: { returns: "mongodb.ClientSession", fresh: true, awaited: true },
        transaction: { invokesArgs: [{ index: 0, when: "now" }] },
      },
    },
  ],
};
