// The one place that creates a Prisma client. DATABASE_URL picks the provider:
// unset -> SQLite at data/poolguard.db, file:... -> SQLite, postgres(ql)://... -> PostgreSQL.
// Both generated clients expose the same models (one schema, two providers).
import { join } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as PostgresClient } from "./generated/postgresql/client.ts";
import { PrismaClient as SqliteClient } from "./generated/sqlite/client.ts";

export type Db = InstanceType<typeof SqliteClient>;
export type DatabaseProvider = "sqlite" | "postgresql";

export function databaseUrl(): string {
  const configured = process.env.DATABASE_URL?.trim();
  if (configured) return configured;
  return `file:${join(process.cwd(), "data", "poolguard.db")}`;
}

export function providerOf(url: string): DatabaseProvider {
  if (url.startsWith("file:")) return "sqlite";
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return "postgresql";
  throw new Error("DATABASE_URL must start with file:, postgres:// or postgresql://");
}

export function redactUrl(url: string): string {
  if (providerOf(url) === "sqlite") return url;
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

export function createClient(url: string = databaseUrl()): Db {
  if (providerOf(url) === "sqlite") {
    return new SqliteClient({ adapter: new PrismaBetterSqlite3({ url }) });
  }
  // Same models and methods; the types are nominally distinct per generated client.
  return new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as Db;
}

// One client per process (and across Next.js dev hot reloads), keyed by URL so tests
// that switch DATABASE_URL get a fresh one.
const cache = globalThis as unknown as { poolguardDb?: { url: string; client: Db } };

export function db(): Db {
  const url = databaseUrl();
  if (cache.poolguardDb?.url === url) return cache.poolguardDb.client;
  const client = createClient(url);
  cache.poolguardDb = { url, client };
  return client;
}

export async function disconnectDatabase(): Promise<void> {
  const current = cache.poolguardDb;
  cache.poolguardDb = undefined;
  await current?.client.$disconnect();
}
