import type { LibraryModel } from "../../flow/models.ts";

// node-postgres: `pool.connect()` checks a PoolClient out (release() gives it back; the
// callback form passes `done` as the third argument); a non-pooled `new Client()` holds its
// own connection until `end()`. Query callbacks always run exactly once (error or result).
const driverCallback = { invokesArgs: [{ index: -1, when: "later" as const }] };

export const pg: LibraryModel = {
  id: "pg",
  language: "typescript",
  versions: ">=7 <9",
  packages: ["pg", "pg-pool"],
  exports: {
    "pg.Pool": { construct: { returns: "pg.Pool", fresh: false } },
    "pg-pool": { construct: { returns: "pg.Pool", fresh: false } },
    "pg.Client": { construct: { returns: "pg.Client", fresh: true } },
  },
  types: [
    {
      name: "pg.Pool",
      methods: {
        connect: { returns: "pg.PoolClient", awaited: true, fresh: true, yieldsToCallback: { param: 1, releaseParam: 2 } },
        query: driverCallback,
      },
    },
    {
      name: "pg.PoolClient",
      resource: {
        rule: "pool-client-not-released",
        noun: "pool client",
        // `client.end()` closes a pooled client too: the pool drops it on "end".
        releaseMethods: ["release", "end"],
        releaseAwait: "never",
        protocols: ["try-finally"],
        finallyRelease: "release",
      },
      methods: { query: driverCallback },
    },
    {
      name: "pg.Client",
      resource: {
        rule: "pool-client-not-released",
        noun: "client",
        releaseMethods: ["end"],
        releaseAwait: "always",
        protocols: ["try-finally"],
        finallyRelease: "end",
      },
      methods: { connect: { setup: true }, query: driverCallback },
    },
  ],
  conventions: [{ method: "connect", receiver: "pool$", type: "pg.Pool" }],
};
