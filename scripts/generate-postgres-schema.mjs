#!/usr/bin/env node
// prisma/schema.prisma (SQLite) is the source of truth. A schema file holds one
// provider, so the PostgreSQL copy is generated from it; tests/unit/db fails when the
// copy is stale. Usage: node scripts/generate-postgres-schema.mjs [--check]
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";

const root = join(import.meta.dirname, "..");
export const sqliteSchemaPath = join(root, "prisma/schema.prisma");
export const postgresSchemaPath = join(root, "prisma/postgresql/schema.prisma");

export function renderPostgresSchema(sqliteSchema) {
  const header =
    "// GENERATED from prisma/schema.prisma by scripts/generate-postgres-schema.mjs: do not edit.\n" +
    "// Edit the SQLite schema and run `npm run db:postgres-schema`.\n\n";
  const replaced = sqliteSchema
    .replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"')
    .replace('output       = "../lib/db/generated/sqlite"', 'output       = "../../lib/db/generated/postgresql"');
  if (replaced === sqliteSchema || !replaced.includes("generated/postgresql")) {
    throw new Error("prisma/schema.prisma no longer has the expected provider/output lines");
  }
  return header + replaced;
}

if (process.argv[1] === import.meta.filename) {
  const expected = renderPostgresSchema(readFileSync(sqliteSchemaPath, "utf8"));
  if (process.argv.includes("--check")) {
    let actual = "";
    try {
      actual = readFileSync(postgresSchemaPath, "utf8");
    } catch {}
    if (actual !== expected) {
      console.error("prisma/postgresql/schema.prisma is stale: run `npm run db:postgres-schema`");
      process.exit(1);
    }
  } else {
    mkdirSync(dirname(postgresSchemaPath), { recursive: true });
    writeFileSync(postgresSchemaPath, expected);
    console.log("wrote prisma/postgresql/schema.prisma");
  }
}
