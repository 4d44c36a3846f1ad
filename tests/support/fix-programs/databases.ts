// The databases the fix programs run against: a fresh SQLite file per run, and one
// throwaway database on the PostgreSQL server of the integration run (started here
// when none is given). Both hold one table, `items`, with three rows.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";

export const itemCount = 3;

export function sqliteFile(dir: string): string {
  const path = join(dir, `db-${randomBytes(4).toString("hex")}.sqlite`);
  const db = new Database(path);
  try {
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO items (name) VALUES (?)");
    for (let i = 1; i <= itemCount; i++) insert.run(`item ${i}`);
  } finally {
    db.close();
  }
  return path;
}

export type PostgresDatabase = {
  /** libpq URL of the throwaway database. */
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
  drop: () => Promise<void>;
};

/** The PostgreSQL server to use: POOLGUARD_TEST_POSTGRES_URL, else DATABASE_URL when it is PostgreSQL. */
function serverUrlFromEnv(): string | null {
  const explicit = process.env.POOLGUARD_TEST_POSTGRES_URL;
  if (explicit) return explicit;
  const url = process.env.DATABASE_URL ?? "";
  return /^postgres(ql)?:\/\//.test(url) ? url : null;
}

/**
 * A fresh database with the `items` table on the integration PostgreSQL server, or on a
 * throwaway server started here when the run did not provide one. Fails loudly when
 * neither works: these tests are never skipped.
 */
export async function postgresDatabase(): Promise<PostgresDatabase> {
  let serverUrl = serverUrlFromEnv();
  let stopServer = async () => {};
  if (!serverUrl) {
    const { startPostgres } = await import("../../../scripts/lib/postgres.mjs");
    const server = await startPostgres();
    serverUrl = server.url;
    stopServer = () => server.stop();
  }
  const server = new URL(serverUrl);
  const name = `poolguard_fixes_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: dbUrl.toString() });
  await client.connect();
  try {
    await client.query("CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL)");
    for (let i = 1; i <= itemCount; i++) await client.query("INSERT INTO items (name) VALUES ($1)", [`item ${i}`]);
  } finally {
    await client.end();
  }
  return {
    url: dbUrl.toString(),
    host: server.hostname,
    port: Number(server.port || 5432),
    user: decodeURIComponent(server.username || "postgres"),
    database: name,
    async drop() {
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
        await stopServer();
      }
    },
  };
}

/** The same database as a SQLAlchemy URL for a driver (`postgresql+asyncpg://...`). */
export function sqlalchemyUrl(db: PostgresDatabase, driver: "psycopg2" | "asyncpg"): string {
  return db.url.replace(/^postgres(ql)?:\/\//, `postgresql+${driver}://`);
}
