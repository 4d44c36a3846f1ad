import type { LibraryModel } from "../../flow/models.ts";

// node-postgres before 7: the module itself kept a default pool per connection string, and
// `pg.connect(config, (err, client, done) => ...)` checked a client out of it; `done()`
// gives it back (the same shape as `pool.connect(cb)` later). Removed in pg 7.0; the
// objects are the ones the `pg` model describes.
export const pgLegacy: LibraryModel = {
  id: "pg-legacy",
  language: "typescript",
  versions: ">=0.14 <7",
  packages: ["pg"],
  exports: {
    "pg.connect": { call: { returns: "pg.PoolClient", awaited: true, fresh: true, yieldsToCallback: { param: 1, releaseParam: 2 } } },
  },
  types: [],
};
