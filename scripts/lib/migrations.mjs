// Migrations through Prisma's WebAssembly schema engine (see scripts/lib/schema-engine.mjs).
// They write the same `_prisma_migrations` rows as the native engine (checksum =
// SHA-256 of migration.sql), so a database migrated here can later be managed with the
// native `prisma migrate` and vice versa.
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import { loadSchemaEngine } from "./schema-engine.mjs";

export const projectRoot = join(import.meta.dirname, "../..");
export const defaultDatabaseUrl = `file:${join(projectRoot, "data/poolguard.db")}`;

/** @returns {"sqlite" | "postgresql"} */
export function providerFromUrl(url) {
  if (url.startsWith("file:")) return "sqlite";
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return "postgresql";
  throw new Error(`DATABASE_URL must start with file:, postgres:// or postgresql:// (got "${url.split(":")[0]}:...")`);
}

export function schemaPaths(provider) {
  const dir = provider === "sqlite" ? join(projectRoot, "prisma") : join(projectRoot, "prisma/postgresql");
  return { schema: join(dir, "schema.prisma"), migrations: join(dir, "migrations") };
}

/** pg settings passed field by field: a connection string would override the database name (shadow databases). */
export function pgConfig(url) {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username || "postgres"),
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: decodeURIComponent(parsed.pathname.slice(1) || "postgres"),
  };
}

export function adapterFactory(url) {
  const provider = providerFromUrl(url);
  if (provider === "sqlite") return sqliteEngineAdapter(url);
  return new PrismaPg(pgConfig(url));
}

// The app opens SQLite in WAL mode (lib/db/client.ts), where every open connection holds a
// shared lock on the file: the schema engine's `PRAGMA main.locking_mode=EXCLUSIVE` would
// wait for every web server and worker to disconnect, and fail after the busy timeout
// (`npm start` next to running workers). Without it the engine's writes wait only for
// other writers, like any other write.
function sqliteEngineAdapter(url) {
  const factory = new PrismaBetterSqlite3({ url });
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = (query) => (/^\s*PRAGMA\s+(main\.)?locking_mode\s*=\s*EXCLUSIVE\s*;?\s*$/i.test(query.sql) ? Promise.resolve(0) : executeRaw(query));
    return adapter;
  };
  return factory;
}

export function readMigrationsList(migrationsDir) {
  const lockPath = join(migrationsDir, "migration_lock.toml");
  const directories = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(join(migrationsDir, d.name, "migration.sql")))
        .map((d) => d.name)
        .sort()
    : [];
  return {
    baseDir: migrationsDir,
    lockfile: { path: "migration_lock.toml", content: existsSync(lockPath) ? readFileSync(lockPath, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: directories.map((name) => ({
      path: name,
      migrationFile: { path: "migration.sql", content: { tag: "ok", value: readFileSync(join(migrationsDir, name, "migration.sql"), "utf8") } },
    })),
  };
}

export const noFilters = { externalTables: [], externalEnums: [] };

const pgInternalChar = 18;
const pgText = 25;

/**
 * Introspection reads catalog columns of PostgreSQL's internal one-byte "char" type,
 * which adapter-pg cannot map ("Column type 'char' could not be deserialized"). Its
 * values arrive as strings anyway, so report those columns as text.
 */
function readCharAsText(adapter) {
  const performIO = adapter.performIO;
  if (typeof performIO !== "function") throw new Error("adapter-pg changed: performIO is gone; revisit readCharAsText");
  adapter.performIO = async function patchedPerformIO(...args) {
    const result = await performIO.apply(this, args);
    for (const field of result.fields ?? []) {
      if (field.dataTypeID === pgInternalChar) field.dataTypeID = pgText;
    }
    return result;
  };
  return adapter;
}

/**
 * adapter-pg drops its shadow database while its own pool is still connected
 * ("database ... is being accessed by other users"): close the shadow pool first,
 * then drop the database from the main connection.
 */
async function connectPostgresShadow(url, opened) {
  const main = await new PrismaPg(pgConfig(url)).connect();
  const database = `poolguard_shadow_${randomUUID().replaceAll("-", "")}`;
  await main.executeScript(`CREATE DATABASE "${database}"`);
  const shadow = readCharAsText(await new PrismaPg({ ...pgConfig(url), database }).connect());
  const dispose = async () => {
    await shadow.dispose();
    await main.executeScript(`DROP DATABASE IF EXISTS "${database}"`);
    await main.dispose();
  };
  opened.push({ dispose });
  return new Proxy(shadow, {
    get(target, property, receiver) {
      if (property === "dispose") return async () => {};
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * The engine replays migrations on the SQLite shadow database one `executeRaw` per
 * migration file, and better-sqlite3 refuses strings with several statements: run
 * those as a script instead.
 */
function withScriptFallback(adapter) {
  return new Proxy(adapter, {
    get(target, property, receiver) {
      if (property !== "executeRaw") {
        const value = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return async (query) => {
        try {
          return await target.executeRaw(query);
        } catch (error) {
          if (!String(error?.message ?? error).includes("more than one statement") || query.args?.length) throw error;
          await target.executeScript(query.sql);
          return 0;
        }
      };
    },
  });
}

/**
 * Open the engine on a database. Returns the engine and `close()`, which frees it and
 * disposes the driver connections it opened (an open SQLite handle would otherwise
 * keep the file locked for the next engine).
 */
export async function openSchemaEngine(url, { schemaText, log = () => {} } = {}) {
  const { SchemaEngine } = await loadSchemaEngine();
  const provider = providerFromUrl(url);
  const schema = schemaText ?? readFileSync(schemaPaths(provider).schema, "utf8");
  const raw = adapterFactory(url);
  const opened = [];
  const tracked = {
    provider: raw.provider,
    adapterName: raw.adapterName,
    async connect() {
      const adapter = await raw.connect();
      opened.push(adapter);
      return provider === "postgresql" ? readCharAsText(adapter) : adapter;
    },
    async connectToShadowDb() {
      if (provider === "postgresql") return connectPostgresShadow(url, opened);
      const adapter = await raw.connectToShadowDb();
      opened.push(adapter);
      return withScriptFallback(adapter);
    },
  };
  const engine = await SchemaEngine.new(
    { datamodels: [["schema.prisma", schema]] },
    (line) => log(line),
    bindMigrationAwareSqlAdapterFactory(tracked),
  );
  return {
    engine,
    async close() {
      engine.free();
      for (const adapter of opened.splice(0)) await adapter.dispose();
    },
  };
}

/**
 * Apply every migration not yet applied. Returns the names applied now.
 * Throws with the engine's message when a migration fails.
 */
export async function applyMigrations(url, { migrationsDir, log } = {}) {
  const provider = providerFromUrl(url);
  const dir = migrationsDir ?? schemaPaths(provider).migrations;
  const { engine, close } = await openSchemaEngine(url, { log });
  try {
    const output = await engine.applyMigrations({ migrationsList: readMigrationsList(dir), filters: noFilters });
    return output.appliedMigrationNames;
  } finally {
    await close();
  }
}
