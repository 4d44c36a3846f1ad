// Dashboard server time with 100,000 findings, on SQLite and on PostgreSQL, in one run.
//
//   npm run build && npx tsx bench/dashboard.ts [--findings 100000] [--requests 40] [--only sqlite|postgres] [--keep]
//
// For each database: a throwaway database migrated like production (PostgreSQL is started
// on 127.0.0.1 as scripts/test.mjs does), an organization and its admin made by the app's
// own code (bench/dashboard-setup.ts), one repository holding N findings (12 rules, three
// severities, mixed statuses, paths in 200 folders, each with its stored code context) and
// 30 completed scans; then the production server (`next start`) on it, a sign-in through
// a one-time link as a person would, and sequential requests over loopback: the findings
// list (default view, a deep page, filtered by rule and severity, by folder), a finding's
// page, and the repository and repositories pages. Prints p50 / p95 per page and database
// with the load average. Findings and scans are written with the drivers directly, so
// seeding 100k rows takes seconds, not minutes.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
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

/** The code context a scan stores with a finding (17 lines around it). */
const context = Array.from({ length: 17 }, (_, i) => (i === 8 ? "    session = factory()" : `    value_${i} = compute(value_${i - 1 < 0 ? 0 : i - 1})`)).join("\n");

export function dataset(organizationId: string) {
  const now = Date.now();
  const repository = { id: "rep00000001", organizationId, provider: "git", name: "bench/monolith", defaultBranch: "main", cloneUrl: "https://git.example.test/bench/monolith.git", createdAt: now, updatedAt: now };
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
      context,
      contextStartLine: Math.max(1, (i % 500) + 1 - 8),
      status: i % 10 === 0 ? "ignored" : i % 7 === 0 ? "fixed" : "open",
      firstSeenScanId: scans[i % 30].id as string,
      lastSeenScanId: scans[29].id as string,
      createdAt: now - (i % 30) * 86_400_000,
      updatedAt: now,
    });
  }
  return { repository, scans, findings };
}

/** Prisma's SQLite adapter keeps DateTime columns as ISO text. */
function sqliteRow(row: Row): unknown[] {
  return Object.entries(row).map(([k, v]) => (/At$/.test(k) && typeof v === "number" ? new Date(v).toISOString().replace("Z", "+00:00") : v));
}

export async function seedSqlite(url: string, data: ReturnType<typeof dataset>) {
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
  insert("Repository", data.repository);
  many("Scan", data.scans);
  many("Finding", data.findings);
  db.exec("ANALYZE");
  db.close();
}

export async function seedPostgres(url: string, data: ReturnType<typeof dataset>) {
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
    await insertMany("Repository", [data.repository]);
    await insertMany("Scan", data.scans);
    await insertMany("Finding", data.findings);
    // What autovacuum does soon after a bulk insert on a live server: statistics, and the
    // visibility map that lets index-only scans skip the table.
    await client.query("VACUUM ANALYZE");
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

/** The organization and its admin, made by the app's own code; a one-time sign-in link for the admin. */
function setUp(databaseUrl: string, baseUrl: string): { organizationId: string; link: string } {
  const out = execFileSync(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "bench/dashboard-setup.ts"), baseUrl], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, POOLGUARD_WEB_ONLY: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
}

/** Follow the one-time link as a browser would (cookies kept across redirects); returns the Cookie header. */
async function signIn(link: string, base: string): Promise<string> {
  const jar = new Map<string, string>();
  let url = link;
  for (let hop = 0; hop < 6; hop++) {
    const response = await fetch(url, { redirect: "manual", headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") } });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(";");
      const eq = pair.indexOf("=");
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    await response.text();
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location) break;
    url = new URL(location, base).toString();
  }
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const check = await fetch(`${base}/findings`, { redirect: "manual", headers: { cookie } });
  await check.text();
  if (check.status !== 200) throw new Error(`signing in through the one-time link did not work: /findings answered ${check.status}`);
  return cookie;
}

async function waitFor(url: string) {
  for (let i = 0; i < 200; i++) {
    try {
      // Any answer means the server is up (health may say 503 while a check warms up).
      const response = await fetch(url);
      await response.text();
      if (response.status < 500 || response.status === 503) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server did not answer at ${url}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function timePages(base: string, cookie: string, repositoryId: string, findingId: string) {
  const pages = [
    ["findings (default: open, by severity)", "/findings"],
    ["findings, page 500", "/findings?page=500&sort=path"],
    ["findings, rule + severity", "/findings?rule=session-used-after-close&severity=warning"],
    ["findings, folder", "/findings?path=src/module-42"],
    ["finding page", `/findings/${findingId}`],
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
  const report: string[] = [];
  const loads: string[] = [];
  for (const provider of ["sqlite", "postgres"] as const) {
    if (only && only !== provider) continue;
    const scratch = mkdtempSync(join(tmpdir(), "poolguard-bench-dashboard-"));
    const postgres = provider === "postgres" ? await startPostgres() : null;
    const url: string = postgres ? postgres.url : `file:${join(scratch, "bench.db")}`;
    let server: ReturnType<typeof startServer> | null = null;
    try {
      await migrate(url, { quiet: true });
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const { organizationId, link } = setUp(url, base);
      const data = dataset(organizationId);
      const seeded = performance.now();
      if (provider === "sqlite") await seedSqlite(url, data);
      else await seedPostgres(url, data);
      console.error(`[${provider}] seeded ${findingCount} findings in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
      server = startServer(url, port);
      await waitFor(`${base}/api/health`);
      const cookie = await signIn(link, base);
      const before = loadavg()[0];
      const results = await timePages(base, cookie, data.repository.id, data.findings[4321].id as string);
      loads.push(`${provider}: ${before.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`);
      for (const r of results) report.push(`| ${provider} | ${r.page} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} |`);
    } finally {
      server?.kill("SIGTERM");
      await postgres?.stop();
      if (keep && provider === "sqlite") console.error(`[sqlite] kept ${url}`);
      else rmSync(scratch, { recursive: true, force: true });
    }
  }
  // POOLGUARD_BENCH_COMMIT: when benchmarking an exported tree (git archive) that has no .git.
  let commit = process.env.POOLGUARD_BENCH_COMMIT ?? "";
  if (!commit) {
    try {
      commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      commit = "unknown";
    }
  }
  console.log(`\n${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, commit ${commit}, 1-minute load average ${loads.join(", ")}`);
  console.log(`${findingCount} findings, ${requests} requests per page after 5 warm-up requests (ms, loopback HTTP, production build)\n`);
  console.log("| database | page | p50 ms | p95 ms |\n|---|---|---|---|");
  console.log(report.join("\n"));
}

// Imported (to seed a database for a look at query plans): only the seeding functions.
if (process.argv[1] === import.meta.filename) await main();
