import type { LibraryModel } from "../../flow/models.ts";

// generic-pool: `await pool.acquire()` lends a resource; `pool.release(r)` or
// `pool.destroy(r)` gives it back. The resource has no release method of its own, so the
// try/finally fix calls the pool (`$receiver` is the pool expression, `$name` the resource).
export const genericPool: LibraryModel = {
  id: "generic-pool",
  language: "typescript",
  versions: ">=3 <4",
  packages: ["generic-pool"],
  exports: {
    "generic-pool.createPool": { call: { returns: "generic-pool.Pool", fresh: false } },
  },
  types: [
    {
      name: "generic-pool.Pool",
      methods: {
        acquire: { returns: "generic-pool.Resource", awaited: true, fresh: true },
        release: { releasesArgs: [0] },
        destroy: { releasesArgs: [0] },
      },
    },
    {
      name: "generic-pool.Resource",
      resource: {
        rule: "pool-client-not-released",
        noun: "pooled resource",
        releaseMethods: [],
        releaseAwait: "never",
        protocols: ["try-finally"],
        finallyRelease: "$receiver.release($name)",
      },
    },
  ],
  conventions: [{ method: "acquire", receiver: "pool$", type: "generic-pool.Pool" }],
};
