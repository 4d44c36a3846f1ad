import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, schemaPaths } from "../../../scripts/lib/migrations.mjs";
import { createEmptyDatabase, testProvider } from "./fresh-database.ts";

const provider = testProvider();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const fn of cleanups) await fn();
});

async function sql(url: string, query: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  if (url.startsWith("file:")) {
    const db = new Database(url.slice("file:".length));
    try {
      const statement = db.prepare(query);
      const values = params.map((p) => (typeof p === "boolean" ? Number(p) : p));
      if (statement.reader) return statement.all(...values) as Record<string, unknown>[];
      statement.run(...values);
      return [];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let n = 0;
    return (await client.query(query.replace(/\?/g, () => `$${++n}`), params)).rows;
  } finally {
    await client.end();
  }
}

describe(`migrations on ${provider}`, () => {
  const migrationNames = readdirSync(schemaPaths(provider).migrations, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

  it("has at least two migrations, so the upgrade path is exercised", () => {
    expect(migrationNames.length).toBeGreaterThanOrEqual(2);
  });

  it("applies every migration to an empty database, then has nothing left to apply", async () => {
    const database = await createEmptyDatabase();
    cleanups.push(database.drop);
    expect(await applyMigrations(database.url)).toEqual(migrationNames);
    expect(await applyMigrations(database.url)).toEqual([]);
    const rows = await sql(database.url, 'SELECT migration_name, finished_at FROM "_prisma_migrations" ORDER BY migration_name');
    expect(rows.map((r) => r.migration_name)).toEqual(migrationNames);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
  });

  it("upgrades a database created by the first migration and keeps its rows", async () => {
    const database = await createEmptyDatabase();
    cleanups.push(database.drop);
    const firstOnly = mkdtempSync(join(tmpdir(), "poolguard-first-migration-"));
    cleanups.push(async () => rmSync(firstOnly, { recursive: true, force: true }));
    const source = schemaPaths(provider).migrations;
    cpSync(join(source, "migration_lock.toml"), join(firstOnly, "migration_lock.toml"));
    cpSync(join(source, migrationNames[0]), join(firstOnly, migrationNames[0]), { recursive: true });
    expect(await applyMigrations(database.url, { migrationsDir: firstOnly })).toEqual([migrationNames[0]]);

    const now = new Date().toISOString();
    await sql(database.url, 'INSERT INTO "Organization" ("id","slug","name","createdAt","updatedAt") VALUES (?,?,?,?,?)', ["org1", "acme", "Acme", now, now]);
    await sql(
      database.url,
      'INSERT INTO "Repository" ("id","organizationId","provider","name","defaultBranch","private","createdAt","updatedAt") VALUES (?,?,?,?,?,?,?,?)',
      ["repo1", "org1", "local", "acme/api", "main", false, now, now],
    );
    await sql(
      database.url,
      'INSERT INTO "Scan" ("id","repositoryId","trigger","status","filesDone","filesTotal","filesScanned","findingsCount","countsByRule","countsBySeverity","createdAt") VALUES (?,?,?,?,?,?,?,?,?,?,?)',
      ["scan1", "repo1", "cli", "succeeded", 3, 3, 3, 1, "{}", "{}", now],
    );

    expect(await applyMigrations(database.url)).toEqual(migrationNames.slice(1));
    const repositories = await sql(database.url, 'SELECT "id","name","archived" FROM "Repository"');
    expect(repositories).toHaveLength(1);
    expect(repositories[0].name).toBe("acme/api");
    expect(Boolean(repositories[0].archived)).toBe(false);
    const scans = await sql(database.url, 'SELECT "id","repositoryId","filesScanned" FROM "Scan"');
    expect(scans).toEqual([{ id: "scan1", repositoryId: "repo1", filesScanned: 3 }]);
  });
});
