#!/usr/bin/env node
// npm run db:migrate                 apply pending migrations to DATABASE_URL
//                                    (default: SQLite at data/poolguard.db)
// npm run db:migrate -- --create NAME
//                                    author a migration from the schema change, for
//                                    BOTH providers (starts a throwaway PostgreSQL)
//
// Runs Prisma's schema engine compiled to WebAssembly: no download, no internet.
import { mkdirSync, writeFileSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { applyMigrations, defaultDatabaseUrl, noFilters, openSchemaEngine, providerFromUrl, readMigrationsList, schemaPaths } from "./lib/migrations.mjs";

export function databaseUrl() {
  return process.env.DATABASE_URL?.trim() || defaultDatabaseUrl;
}

export async function migrate(url = databaseUrl(), { quiet = false } = {}) {
  const provider = providerFromUrl(url);
  if (provider === "sqlite") {
    const file = url.slice("file:".length).split("?")[0];
    if (file && file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  }
  const applied = await applyMigrations(url);
  if (!quiet) {
    console.log(applied.length > 0 ? `applied ${applied.length} migration(s) on ${provider}: ${applied.join(", ")}` : `database (${provider}) is up to date`);
  }
  return applied;
}

async function diffFromMigrations(url, provider) {
  const { schema, migrations } = schemaPaths(provider);
  const { engine, close } = await openSchemaEngine(url);
  try {
    const result = await engine.diff({
      from: { tag: "migrations", ...readMigrationsList(migrations) },
      to: { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: readFileSync(schema, "utf8") }] },
      script: true,
      shadowDatabaseUrl: null,
      exitCode: null,
      filters: noFilters,
    });
    return result.stdout ?? "";
  } finally {
    await close();
  }
}

async function create(name) {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error("migration name: lowercase letters, digits and underscores only");
  const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const scratch = mkdtempSync(join(tmpdir(), "poolguard-migration-"));
  const { startPostgres } = await import("./lib/postgres.mjs");
  const postgres = await startPostgres();
  try {
    const targets = [
      ["sqlite", `file:${join(scratch, "author.db")}`],
      ["postgresql", postgres.url],
    ];
    for (const [provider, url] of targets) {
      const sql = await diffFromMigrations(url, provider);
      if (!sql.replace(/--.*$/gm, "").trim()) {
        console.log(`${provider}: schema matches the migrations; nothing to create`);
        continue;
      }
      const { migrations } = schemaPaths(provider);
      const dir = join(migrations, `${stamp}_${name}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "migration.sql"), sql);
      writeFileSync(join(migrations, "migration_lock.toml"), `# Managed by Poolguard's migrate script (Prisma format).\nprovider = "${provider}"\n`);
      console.log(`${provider}: wrote ${dir}/migration.sql`);
    }
  } finally {
    await postgres.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) {
  const createIndex = process.argv.indexOf("--create");
  try {
    if (createIndex !== -1) await create(process.argv[createIndex + 1] ?? "");
    else await migrate();
  } catch (error) {
    console.error(`migration failed: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  }
}
