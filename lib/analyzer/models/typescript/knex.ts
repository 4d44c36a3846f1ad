import type { LibraryModel } from "../../flow/models.ts";

// knex: `await knex.transaction()` (no callback) returns a transaction that holds a
// connection until `commit()` or `rollback()`; `knex.transaction(async (trx) => ...)`
// manages it.
export const knex: LibraryModel = {
  id: "knex",
  language: "typescript",
  versions: ">=0.95 <4",
  packages: ["knex"],
  exports: {
    knex: { call: { returns: "knex.Knex", fresh: false } },
    "knex.knex": { call: { returns: "knex.Knex", fresh: false } },
  },
  types: [
    {
      name: "knex.Knex",
      methods: {
        transaction: { returns: "knex.Transaction", awaited: true, fresh: true, managedWithCallback: true },
      },
    },
    {
      name: "knex.Transaction",
      // A nested transaction (a savepoint) must be finished too.
      methods: {
        transaction: { returns: "knex.Transaction", awaited: true, fresh: true, managedWithCallback: true },
      },
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
  // `db.transaction()` on a handle of unknown origin: knex and Sequelize share the shape.
  conventions: [{ method: "transaction", type: "knex.Knex" }],
};
