import type { LibraryModel } from "../../flow/models.ts";

// mongoose: `mongoose.startSession()`, `connection.startSession()` and
// `Model.startSession()` resolve to a MongoDB ClientSession (see mongodb.ts);
// `connection.transaction(fn)` manages its own session.
export const mongoose: LibraryModel = {
  id: "mongoose",
  language: "typescript",
  versions: ">=5.2 <9",
  packages: ["mongoose"],
  exports: {
    "mongoose.startSession": { call: { returns: "mongodb.ClientSession", fresh: true } },
    "mongoose.connection": { type: "mongoose.Connection" },
    "mongoose.createConnection": { call: { returns: "mongoose.Connection", fresh: false } },
  },
  types: [
    {
      name: "mongoose.Connection",
      methods: {
        startSession: { returns: "mongodb.ClientSession", fresh: true },
        transaction: { invokesArgs: [{ index: 0, when: "now" }] },
      },
    },
  ],
};
