// Dashboard server time with 100,000 findings, on SQLite and on PostgreSQL.
//
//   npm run build && npx tsx bench/dashboard.ts [--findings 100000] [--requests 40] [--only sqlite|postgres] [--keep]
//
// Seeds a throwaway database (migrated like production) with one organization, one
// repository holding N findings (12 rules, three severities, mixed statuses, paths in 200
// folders) and 30 completed scans, starts the production server (`next start`) on it and
// times sequential requests over loopback: the findings list (default view, a deep page,
// filtered by rule and severity, by folder) and the repository and repositories pages.
// Prints p50 / p95 per page and database. Rows are written with the drivers directly (the
// app's own code only reads them), so seeding 100k rows takes seconds, not minutes.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { startPostgres } from "../scripts/lib/postgres.mjs";
import { freePort } from "../scripts/lib/redis.mjs";
import { migrate } from "../scripts/migrate.mjs";

const root = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const findingCount = Number(option("findings", "100000"));
const requests = Number(option("requests", "40"));
const only = option("only", "");
/** Keep the seeded SQLite database and print its path (for looking at query plans). */
const keep = args.includes("--keep");

const rules = [
  "session-not-closed",
  "session-used-after-close",
  "session-dependency-not-closed",
  "manual-aenter",
  "connection-not-closed",
  "engine-per-call",
  "session-shared-across-tasks",
  "shared-module-session",
  "pool-client-not-released",
  "query-runner-not-released",
  "transaction-not-finished",
  "forbidden-import",
];
const severities = ["error", "warning", "warning", "info"];

type Row = Record<string, string | number | null>;

function id(prefix: string, n: number): string {
  return `${prefix}${n.toString(36).padStart(8, "0")}`;
}

function dataset() {
  const now = Date.now();
  const organization = { id: "org00000001", slug: "bench", name: "Bench", createdAt: now, updatedAt: now };
  const user = { id: "usr00000001", email: "bench@poolguard.test", name: "Bench", passwordHash: null, createdAt: now, updatedAt: now };
  const membership = { id: "mem00000001", userId: user.id, organizationId: organization.id, role: "admin", createdAt: now };
  const repository = { id: "rep00000001", organizationId: organization.id, provider: "local", name: "bench/monolith", defaultBranch: "main", localPath: "/nonexistent", createdAt: now, updatedAt: now };
  const scans: Row[] = [];
  for (let i = 0; i < 30; i++) {
    const byRule = Object.fromEntries(rules.map((r, j) => [r, Math.round((findingCount / rules.length) * (0.7 + 0.01 * i + 0.001 * j))]));
    scans.push({
      id: id("scn", i),
      repositoryId: repository.id,
      trigger: "schedule",
      status: "succeeded",
      findingsCount: findingCount,
      filesScanned: 20000,
      countsByRule: JSON.stringify(byRule),
      countsBySeverity: JSON.stringify({ error: findingCount / 4, warning: findingCount / 2, info: findingCount / 4 }),
      durationMs: 60000,
      createdAt: now - (30 - i) * 86_400_000,
    });
  }
  const findings: Row[] = [];
  for (let i = 0; i < findingCount; i++) {
    const rule = rules[i % rules.length];
    findings.push({
      id: id("fnd", i),
      repositoryId: repository.id,
      fingerprint: createHash("sha256").update(String(i)).digest("hex").slice(0, 20),
      rule,
      severity: severities[i % severities.length],
      message: `Resource from factory() is not released on every path (${rule})`,
      path: `src/module-${i % 200}/file-${Math.floor(i / 200) % 100}.py`,
      line: (i % 500) + 1,
      column: 5,
      endLine: (i % 500) + 1,
      endColumn: 40,
      snippet: "    session = factory()",
      status: i % 10 === 0 ? "ignored" : i % 7 === 0 ? "fixed" : "open",
      firstSeenScanId: scans[i % 30].id as string,
      lastSeenScanId: scans[29].id as string,
      createdAt: now - (i % 30) * 86_400_000,
      updatedAt: now,
    });
  }
  return { organization, user, membership, repository, scans, findings };
}

/** Prisma's SQLite adapter keeps DateTime columns as ISO text. */
function sqliteRow(row: Row): unknown[] {
  return Object.entries(row).map(([k, v]) => (/At$/.test(k) && typeof v === "number" ? new Date(v).toISOString().replace("Z", "+00:00") : v));
}

async function seedSqlite(url: string, data: ReturnType<typeof dataset>, sessionHash: string) {
  const db = new Database(url.slice("file:".length));
  const insert = (table: string, row: Row) => {
    const columns = Object.keys(row);
    db.prepare(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(",")}) VALUES (${columns.map(() => "?").join(",")})`).run(...sqliteRow(row));
  };
  const many = (table: string, rows: Row[]) => {
    const columns = Object.keys(rows[0]);
    const statement = db.prepare(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(",")}) VALUES (${columns.map(() => "?").join(",")})`);
    db.transaction((all: Row[]) => {
      for (const row of all) statement.run(...sqliteRow(row));
    })(rows);
  };
  insert("Organization", data.organization);
  insert("User", data.user);
  insert("Membership", data.membership);
  insert("Repository", data.repository);
  many("Scan", data.scans);
  many("Finding", data.findings);
  insert("AuthSession", { id: "ses00000001", userId: data.user.id, tokenHash: sessionHash, expiresAt: Date.now() + 86_400_000, createdAt: Date.now() });
  db.exec("ANALYZE");
  db.close();
}

async function seedPostgres(url: string, data: ReturnType<typeof dataset>, sessionHash: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const toDb = (row: Row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, /At$/.test(k) && typeof v === "number" ? new Date(v) : v]));
    const insertMany = async (table: string, rows: Row[]) => {
      const columns = Object.keys(rows[0]);
      for (let start = 0; start < rows.length; start += 1000) {
        const chunk = rows.slice(start, start + 1000).map(toDb);
        const values: unknown[] = [];
        const tuples = chunk.map((row) => {
          const placeholders = columns.map((c) => {
            values.push(row[c]);
            return `$${values.length}`;
          });
          return `(${placeholders.join(",")})`;
        });
        await client.query(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(",")}) VALUES ${tuples.join(",")}`, values);
      }
    };
    await insertMany("Organization", [data.organization]);
    await insertMany("User", [data.user]);
    await insertMany("Membership", [data.membership]);
    await insertMany("Repository", [data.repository]);
    await insertMany("Scan", data.scans);
    await insertMany("Finding", data.findings);
    await insertMany("AuthSession", [{ id: "ses00000001", userId: data.user.id, tokenHash: sessionHash, expiresAt: Date.now() + 86_400_000, createdAt: Date.now() }]);
    await client.query("ANALYZE");
  } finally {
    await client.end();
  }
}

function startServer(databaseUrl: string, port: number) {
  const child = spawn(process.execPath, [join(root, "node_modules/next/dist/bin/next"), "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, NEXT_TELEMETRY_DISABLED: "1", POOLGUARD_WEB_ONLY: "1", NODE_ENV: "production" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return child;
}

async function waitFor(url: string) {
  for (let i = 0; i < 200; i++) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server did not answer at ${url}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function timePages(base: string, cookie: string, repositoryId: string) {
  const pages = [
    ["findings (default: open, by severity)", "/findings"],
    ["findings, page 500", "/findings?page=500&sort=path"],
    ["findings, rule + severity", "/findings?rule=session-not-closed&severity=warning"],
    ["findings, folder", "/findings?path=src/module-42"],
    ["repository page", `/repositories/${repositoryId}`],
    ["repositories", "/repositories"],
  ];
  const results: { page: string; p50: number; p95: number }[] = [];
  for (const [name, path] of pages) {
    const times: number[] = [];
    for (let i = 0; i < requests + 5; i++) {
      const started = performance.now();
      const response = await fetch(`${base}${path}`, { headers: { cookie }, redirect: "manual" });
      await response.text();
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
      if (i >= 5) times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    results.push({ page: name, p50: percentile(times, 50), p95: percentile(times, 95) });
  }
  return results;
}

async function main() {
  if (!existsSync(join(root, ".next", "BUILD_ID"))) throw new Error("build the app first: npm run build");
  const data = dataset();
  const token = randomBytes(32).toString("base64url");
  const sessionHash = createHash("sha256").update(token).digest("hex");
  const cookie = `poolguard_session=${token}`;
  const report: string[] = [];
  for (const provider of ["sqlite", "postgres"] as const) {
    if (only && only !== provider) continue;
    const scratch = mkdtempSync(join(tmpdir(), "poolguard-bench-dashboard-"));
    const postgres = provider === "postgres" ? await startPostgres() : null;
    const url: string = postgres ? postgres.url : `file:${join(scratch, "bench.db")}`;
    let server: ReturnType<typeof startServer> | null = null;
    try {
      await migrate(url, { quiet: true });
      const seeded = performance.now();
      if (provider === "sqlite") await seedSqlite(url, data, sessionHash);
      else await seedPostgres(url, data, sessionHash);
      console.error(`[${provider}] seeded ${findingCount} findings in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
      const port = await freePort();
      server = startServer(url, port);
      const base = `http://127.0.0.1:${port}`;
      await waitFor(`${base}/api/health`);
      const results = await timePages(base, cookie, data.repository.id);
      for (const r of results) report.push(`| ${provider} | ${r.page} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} |`);
    } finally {
      server?.kill("SIGTERM");
      await postgres?.stop();
      if (keep && provider === "sqlite") console.error(`[sqlite] kept ${url}`);
      else rmSync(scratch, { recursive: true, force: true });
    }
  }
  console.log(`\n${findingCount} findings, ${requests} requests per page after 5 warm-up requests (ms, loopback HTTP, production build)\n`);
  console.log("| database | page | p50 ms | p95 ms |\n|---|---|---|---|");
  console.log(report.join("\n"));
}

await main();
