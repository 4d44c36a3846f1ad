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

// SQLite is shared by separate processes (the web server, each worker) through one file.
// In SQLite's default rollback-journal mode a reader holds the whole file against
// writers and every commit syncs the journal and the file, and better-sqlite3 waits for a
// lock synchronously, stopping the process's event loop: a worker polling for work held
// the web server's webhook inserts back, and every request waiting in that server with
// them (seconds under load). In WAL mode readers and the writer do not block each other
// and a commit appends to the log; synchronous=NORMAL syncs at checkpoints, which keeps
// every commit through a process crash (SIGKILL) and risks only the last ones on a power
// loss. journal_mode=WAL is stored in the file (the first connection sets it); the rest
// are per connection. busy_timeout is how long a writer waits for another writer.
// WAL needs shared memory between the processes, which network file systems do not
// give: there, POOLGUARD_SQLITE_JOURNAL_MODE=delete keeps SQLite's rollback journal.
export const sqliteBusyTimeoutMs = 5000;

export function sqlitePragmas(env: Record<string, string | undefined> = process.env): string[] {
  const mode = (env.POOLGUARD_SQLITE_JOURNAL_MODE ?? "wal").trim().toLowerCase();
  if (mode !== "wal" && mode !== "delete") throw new Error("POOLGUARD_SQLITE_JOURNAL_MODE must be wal or delete");
  const journal = mode === "wal" ? ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"] : ["PRAGMA journal_mode = DELETE", "PRAGMA synchronous = FULL"];
  return [...journal, `PRAGMA busy_timeout = ${sqliteBusyTimeoutMs}`];
}

function sqliteAdapter(url: string): PrismaBetterSqlite3 {
  const pragmas = sqlitePragmas();
  const factory = new PrismaBetterSqlite3({ url, timeout: sqliteBusyTimeoutMs });
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const memory = url === "file::memory:" || url === ":memory:";
    for (const pragma of pragmas) if (!(memory && pragma.includes("journal_mode"))) await adapter.executeScript(pragma);
    return adapter;
  };
  return factory;
}

export function createClient(url: string = databaseUrl()): Db {
  if (providerOf(url) === "sqlite") {
    return new SqliteClient({ adapter: sqliteAdapter(url) });
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
