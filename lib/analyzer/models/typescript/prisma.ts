import type { LibraryModel } from "../../flow/models.ts";

// Prisma: every `new PrismaClient()` starts a query engine with its own connection pool.
// It is meant to be created once per process; `$disconnect()` ends it. The client is
// often generated into the project (`../generated/prisma`), so any constructor named
// `*PrismaClient` is one.
export const prisma: LibraryModel = {
  id: "prisma",
  language: "typescript",
  versions: ">=2 <8",
  packages: ["@prisma/client"],
  exports: {
    "@prisma/client.PrismaClient": { construct: { returns: "prisma.PrismaClient", fresh: true } },
  },
  types: [
    {
      name: "prisma.PrismaClient",
      resource: {
        rule: "prisma-client-per-call",
        noun: "Prisma client",
        releaseMethods: ["$disconnect"],
        releaseAwait: "always",
        protocols: [],
        finallyRelease: null,
      },
      methods: { $extends: { returns: "prisma.PrismaClient", fresh: false } },
    },
  ],
  conventions: [{ construct: "PrismaClient$", type: "prisma.PrismaClient" }],
};
