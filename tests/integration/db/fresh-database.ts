// Each integration test file gets its own empty database on the provider the test
// runner chose through DATABASE_URL (a temp SQLite file, or a new database on the
// throwaway PostgreSQL server), migrated with the project's real migrations.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { applyMigrations, pgConfig, providerFromUrl } from "../../../scripts/lib/migrations.mjs";

export type Provider = "sqlite" | "postgresql";

export function testProvider(): Provider {
  return process.env.DATABASE_URL ? (providerFromUrl(process.env.DATABASE_URL) as Provider) : "sqlite";
}

/** Create an empty database; returns its URL and a function that drops it. */
export async function createEmptyDatabase(): Promise<{ url: string; provider: Provider; drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL;
  const provider = testProvider();
  if (provider === "sqlite" || !base) {
    const dir = mkdtempSync(join(tmpdir(), "poolguard-db-test-"));
    return { url: `file:${join(dir, "test.db")}`, provider: "sqlite", drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `poolguard_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client(pgConfig(base));
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    provider,
    drop: async () => {
      const client = new pg.Client(pgConfig(base));
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

/** An empty database with every migration applied, selected as DATABASE_URL for lib/db. */
export async function useFreshDatabase() {
  const database = await createEmptyDatabase();
  await applyMigrations(database.url);
  process.env.DATABASE_URL = database.url;
  return database;
}
