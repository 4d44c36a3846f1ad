import type { LibraryModel } from "../../flow/models.ts";

// TypeORM: `dataSource.createQueryRunner()` makes a QueryRunner that holds a pooled
// connection once connected (connect() runs on its first query; the constructor takes none); `release()` gives it back, and `dataSource.destroy()` closes
// the pool under every runner. `queryRunner.startTransaction()` opens a transaction that
// `commitTransaction()` / `rollbackTransaction()` end (release() alone does not).
export const typeorm: LibraryModel = {
  id: "typeorm",
  language: "typescript",
  versions: ">=0.2.30 <0.4",
  packages: ["typeorm"],
  exports: {
    "typeorm.DataSource": { construct: { returns: "typeorm.DataSource", fresh: false } },
  },
  types: [
    {
      name: "typeorm.DataSource",
      methods: {
        createQueryRunner: { returns: "typeorm.QueryRunner", fresh: true, childOfReceiver: true },
        transaction: { invokesArgs: [{ index: -1, when: "now" }] },
      },
    },
    {
      name: "typeorm.QueryRunner",
      resource: {
        rule: "query-runner-not-released",
        noun: "query runner",
        releaseMethods: ["release"],
        releaseAwait: "always",
        protocols: ["try-finally"],
        finallyRelease: "release",
        // Every driver's query runner (0.2.30 to 0.3.x) takes its connection in connect(),
        // which its first query or `manager` call makes: a throw before that leaks nothing.
        holdsOnFirstUse: true,
      },
      methods: {
        connect: { setup: true },
        startTransaction: { setup: true, opens: "typeorm.Transaction" },
        commitTransaction: { closes: "typeorm.Transaction" },
        rollbackTransaction: { closes: "typeorm.Transaction" },
      },
    },
    {
      name: "typeorm.Transaction",
      resource: {
        rule: "transaction-not-finished",
        noun: "transaction",
        releaseMethods: [],
        releaseAwait: "always",
        protocols: [],
        finallyRelease: null,
      },
    },
  ],
  conventions: [{ method: "createQueryRunner", type: "typeorm.DataSource" }],
};

/** Methods that end a data source and, with it, every query runner it made. */
export const TYPEORM_PARENT_RELEASES = ["destroy"];
