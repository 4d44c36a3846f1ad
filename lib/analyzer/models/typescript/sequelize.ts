import type { LibraryModel } from "../../flow/models.ts";

// Sequelize: an unmanaged `await sequelize.transaction()` must be committed or rolled
// back; the managed form `sequelize.transaction(async (t) => ...)` does it for you.
export const sequelize: LibraryModel = {
  id: "sequelize",
  language: "typescript",
  versions: ">=5 <7",
  packages: ["sequelize", "sequelize-typescript"],
  exports: {
    "sequelize.Sequelize": { construct: { returns: "sequelize.Sequelize", fresh: false } },
    "sequelize-typescript.Sequelize": { construct: { returns: "sequelize.Sequelize", fresh: false } },
  },
  types: [
    {
      name: "sequelize.Sequelize",
      methods: {
        transaction: { returns: "sequelize.Transaction", awaited: true, fresh: true, managedWithCallback: true },
      },
    },
    {
      name: "sequelize.Transaction",
      resource: {
        rule: "transaction-not-finished",
        noun: "transaction",
        releaseMethods: ["commit", "rollback"],
        releaseAwait: "always",
        protocols: [],
        finallyRelease: null,
      },
    },
  ],
};
