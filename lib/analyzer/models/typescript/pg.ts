import type { LibraryModel } from "../../flow/models.ts";

// node-postgres: `pool.connect()` checks a PoolClient out (release() gives it back; the
// callback form passes `done` as the third argument); a non-pooled `new Client()` holds its
// own connection from `connect()` until `end()`. Query callbacks always run exactly once (error or result).
const driverCallback = { invokesArgs: [{ index: -1, when: "later" as const }] };

export const pg: LibraryModel = {
  id: "pg",
  language: "typescript",
  versions: ">=7 <9",
  packages: ["pg", "pg-pool"],
  exports: {
    "pg.Pool": { construct: { returns: "pg.Pool", fresh: false } },
    "pg-pool": { construct: { returns: "pg.Pool", fresh: false } },
    "pg.Client": { construct: { returns: "pg.Client", fresh: false } },
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
      // A non-pooled client holds a connection from `connect()` until `end()`; one that
      // was never connected holds nothing.
      name: "pg.Client",
      methods: {
        connect: { setup: true, opens: "pg.Connection", invokesArgs: [{ index: -1, when: "later" }] },
        end: { closes: "pg.Connection", invokesArgs: [{ index: -1, when: "later" }] },
        query: driverCallback,
      },
    },
    {
      name: "pg.Connection",
      resource: {
        rule: "pool-client-not-released",
        noun: "connection",
        releaseMethods: [],
        releaseAwait: "always",
        protocols: [],
        // For messages only: opened on the client, so no try/finally fix is generated for it.
        finallyRelease: "end",
      },
    },
  ],
  conventions: [
    { method: "connect", receiver: "pool$", type: "pg.Pool" },
    // `new pg.Pool()` where `pg` came from a `require` the index cannot follow (inside a hook, through a helper).
    { construct: "^Pool$", type: "pg.Pool" },
  ],
};
