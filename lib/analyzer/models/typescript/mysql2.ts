import type { LibraryModel } from "../../flow/models.ts";

// mysql2: `pool.getConnection()` (promise API, or the callback form
// `pool.getConnection((err, conn) => ...)`) checks a PoolConnection out; `release()` gives
// it back. The callback API's query/transaction callbacks always run exactly once.
const driverCallback = { invokesArgs: [{ index: -1, when: "later" as const }] };

export const mysql2: LibraryModel = {
  id: "mysql2",
  language: "typescript",
  versions: ">=2 <4",
  packages: ["mysql2", "mysql2/promise", "mysql"],
  exports: {
    "mysql2.createPool": { call: { returns: "mysql2.Pool", fresh: false } },
    "mysql.createPool": { call: { returns: "mysql2.Pool", fresh: false } },
    "mysql2/promise.createPool": { call: { returns: "mysql2.Pool", fresh: false } },
  },
  types: [
    {
      name: "mysql2.Pool",
      methods: {
        getConnection: { returns: "mysql2.PoolConnection", awaited: true, fresh: true, yieldsToCallback: { param: 1 } },
        promise: { returns: "mysql2.Pool", fresh: false },
        query: driverCallback,
        execute: driverCallback,
      },
    },
    {
      name: "mysql2.PoolConnection",
      resource: {
        rule: "pool-client-not-released",
        noun: "pool connection",
        releaseMethods: ["release", "destroy"],
        releaseAwait: "never",
        protocols: ["try-finally"],
        finallyRelease: "release",
      },
      methods: {
        query: driverCallback,
        execute: driverCallback,
        beginTransaction: driverCallback,
        commit: driverCallback,
        rollback: driverCallback,
      },
    },
  ],
  conventions: [{ method: "getConnection", receiver: "pool$", type: "mysql2.Pool" }],
};
