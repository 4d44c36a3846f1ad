// Configuration for the Prisma CLI (used by `npx prisma ...` with a native engine, and
// by `prisma generate`). Poolguard's own `npm run db:migrate` does not go through the
// CLI: it runs the WebAssembly schema engine directly (docs/database.md).
import { join } from "node:path";
import { defineConfig } from "prisma/config";

const url = process.env.DATABASE_URL?.trim() || `file:${join(process.cwd(), "data", "poolguard.db")}`;
const postgres = url.startsWith("postgres://") || url.startsWith("postgresql://");

// The CLI insists on a schema-engine binary even for commands that never run it; the
// stand-in fails loudly if a command does need it. A native engine set by the user wins.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ||= join(process.cwd(), "scripts", "prisma-schema-engine.mjs");

export default defineConfig({
  schema: postgres ? "prisma/postgresql/schema.prisma" : "prisma/schema.prisma",
  migrations: { path: postgres ? "prisma/postgresql/migrations" : "prisma/migrations" },
  datasource: { url },
});
