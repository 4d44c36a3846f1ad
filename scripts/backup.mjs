#!/usr/bin/env node
// `npm run backup -- [DIR]` and `npm run restore -- DIR`: a consistent copy of Poolguard's
// state, and putting it back.
//
// What is saved (DIR, default backups/poolguard-YYYYMMDDTHHMMSSZ):
//   poolguard.db    SQLite: SQLite's online backup API (better-sqlite3's backup()), a
//                   consistent copy even while the app and workers write to the database
//   poolguard.dump  PostgreSQL: pg_dump --format=custom (restore with pg_restore)
//   secret-key      data/secret-key, the key that decrypts the tokens and keys stored in
//                   the database (not written when POOLGUARD_SECRET_KEY is set: keep that
//                   value with your other secrets)
//   manifest.json   provider, time, the last migration applied
//
// Restore: stop the web app and the workers first. SQLite: the database file is replaced
// (its -wal/-shm files removed). PostgreSQL: pg_restore --clean --if-exists into
// DATABASE_URL (create the database first when the server is new). The secret key file
// comes back too (an existing, different key is kept as secret-key.before-restore).
// The next `npm start` applies any newer migrations.
//
// Passwords in DATABASE_URL reach pg_dump/pg_restore through PGPASSWORD, never the command line.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { findPostgresBinDir } from "./lib/system-deps.mjs";

const dataDir = join(process.cwd(), "data");
const keyFile = join(dataDir, "secret-key");

function fail(message) {
  console.error(`poolguard backup: ${message}`);
  process.exit(2);
}

function databaseUrl() {
  return process.env.DATABASE_URL || `file:${join(process.cwd(), "data", "poolguard.db")}`;
}

function providerOf(url) {
  if (url.startsWith("file:")) return "sqlite";
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return "postgresql";
  fail("DATABASE_URL must start with file:, postgres:// or postgresql://");
}

function sqlitePath(url) {
  return resolve(url.slice("file:".length).replace(/^\/\/(?=\/)/, "").split("?")[0]);
}

/** pg_dump / pg_restore: on PATH, else Debian's versioned folder. */
function pgTool(name) {
  const onPath = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (onPath.status === 0) return onPath.stdout.trim();
  const dir = findPostgresBinDir();
  if (dir && existsSync(join(dir, name))) return join(dir, name);
  fail(`${name} not found: install PostgreSQL's client programs (Debian: postgresql-client)`);
}

function pgArgs(url) {
  const parsed = new URL(url);
  return {
    args: ["--host", parsed.hostname, "--port", parsed.port || "5432", "--username", decodeURIComponent(parsed.username || "postgres"), "--dbname", decodeURIComponent(parsed.pathname.slice(1) || "postgres")],
    env: { ...process.env, PGPASSWORD: parsed.password ? decodeURIComponent(parsed.password) : "", PGCONNECT_TIMEOUT: "10" },
  };
}

function run(command, args, env) {
  const result = spawnSync(command, args, { env, encoding: "utf8" });
  if (result.status !== 0) fail(`${command.split("/").pop()} failed: ${(result.stderr || result.error?.message || "").trim()}`);
  return result;
}

function lastMigrationSqlite(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name DESC LIMIT 1").get()?.migration_name ?? null;
  } finally {
    db.close();
  }
}

async function backup(target) {
  const url = databaseUrl();
  const provider = providerOf(url);
  const dir = resolve(target || join("backups", `poolguard-${new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}`));
  if (existsSync(join(dir, "manifest.json"))) fail(`${dir} already holds a backup`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const manifest = { provider, createdAt: new Date().toISOString(), lastMigration: null, secretKey: "none" };
  if (provider === "sqlite") {
    const source = sqlitePath(url);
    if (!existsSync(source)) fail(`no SQLite database at ${source}`);
    const db = new Database(source, { fileMustExist: true });
    try {
      await db.backup(join(dir, "poolguard.db"));
    } finally {
      db.close();
    }
    manifest.lastMigration = lastMigrationSqlite(join(dir, "poolguard.db"));
  } else {
    const { args, env } = pgArgs(url);
    run(pgTool("pg_dump"), [...args, "--format=custom", "--no-owner", "--no-privileges", "--file", join(dir, "poolguard.dump")], env);
  }
  if (process.env.POOLGUARD_SECRET_KEY) manifest.secretKey = "environment";
  else if (existsSync(keyFile)) {
    copyFileSync(keyFile, join(dir, "secret-key"));
    chmodSync(join(dir, "secret-key"), 0o600);
    manifest.secretKey = "file";
  }
  writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`backed up the ${provider} database${manifest.secretKey === "file" ? " and data/secret-key" : ""} to ${dir}`);
  if (manifest.secretKey === "environment") console.log("POOLGUARD_SECRET_KEY is set: keep its value with the backup, or the stored GitHub tokens cannot be decrypted");
}

function restore(source) {
  if (!source) fail("usage: npm run restore -- BACKUP_DIR");
  const dir = resolve(source);
  if (!existsSync(join(dir, "manifest.json"))) fail(`${dir} is not a Poolguard backup (no manifest.json)`);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  const url = databaseUrl();
  const provider = providerOf(url);
  if (manifest.provider !== provider) fail(`the backup is of a ${manifest.provider} database but DATABASE_URL is ${provider}`);
  if (provider === "sqlite") {
    const target = sqlitePath(url);
    mkdirSync(dirname(target), { recursive: true });
    for (const suffix of ["-wal", "-shm", "-journal"]) rmSync(`${target}${suffix}`, { force: true });
    copyFileSync(join(dir, "poolguard.db"), target);
  } else {
    const { args, env } = pgArgs(url);
    run(pgTool("pg_restore"), [...args, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", join(dir, "poolguard.dump")], env);
  }
  if (manifest.secretKey === "file") {
    const saved = readFileSync(join(dir, "secret-key"), "utf8");
    mkdirSync(dataDir, { recursive: true });
    if (existsSync(keyFile) && readFileSync(keyFile, "utf8") !== saved) copyFileSync(keyFile, `${keyFile}.before-restore`);
    writeFileSync(keyFile, saved, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
  }
  console.log(`restored the ${provider} database${manifest.secretKey === "file" ? " and data/secret-key" : ""} from ${dir} (backup of ${manifest.createdAt})`);
  if (manifest.secretKey === "environment") console.log("the backup was made with POOLGUARD_SECRET_KEY set: set the same value here");
}

const [command, target] = process.argv.slice(2);
if (command === "backup") await backup(target);
else if (command === "restore") restore(target);
else fail("usage: node scripts/backup.mjs backup [DIR] | restore DIR");
