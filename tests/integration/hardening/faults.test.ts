import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, pgConfig } from "../../../scripts/lib/migrations.mjs";
import { startPostgres } from "../../../scripts/lib/postgres.mjs";
import { freePort } from "../../../scripts/lib/redis.mjs";
import { copyDemoRepository, startWorker, tempDir, waitUntil, type WorkerProcess } from "../pipeline/helpers.ts";

// Faults under a working worker process, with real servers on 127.0.0.1 that this file
// starts (so it can restart them): PostgreSQL restarted as if it crashed while scans
// run, and Redis killed and started empty under a BullMQ worker. The worker stays up,
// reconnects, and every queued scan completes exactly once.

type Postgres = Awaited<ReturnType<typeof startPostgres>>;
let postgres: Postgres;
let databaseUrl: string;
let db: typeof import("../../../lib/db/index.ts");
const repo = tempDir("faults-repo");
const workers: WorkerProcess[] = [];
const saved = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL };
const scansPerTest = 24;

/** redis-server on a fixed port with no persistence: a restart loses every key, the worst case for the queue. */
function redisOn(port: number): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "poolguard-faults-redis-"));
  const child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  return waitUntil(
    `redis-server on 127.0.0.1:${port}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
      return /Ready to accept connections/.test(output) ? { child, stop } : null;
    },
    10_000,
    50,
  );
}

async function queueScans(dispatcher: import("../../../lib/jobs/context.ts").Dispatcher, slug: string): Promise<{ organizationId: string; scanIds: string[] }> {
  const { requestScan } = await import("../../../lib/jobs/index.ts");
  const user = await db.createUser({ email: `${slug}@faults.test`, name: slug });
  const organization = await db.createOrganization({ slug, name: slug, ownerUserId: user.id });
  const scanIds: string[] = [];
  for (let i = 0; i < scansPerTest; i++) {
    const repository = await db.createRepository({ organizationId: organization.id, provider: "local", name: `${slug}-${i}`, localPath: repo.dir });
    scanIds.push((await requestScan(dispatcher, { repositoryId: repository.id, trigger: "manual" })).scan.id);
  }
  return { organizationId: organization.id, scanIds };
}

/** Every scan succeeded, with its 8 findings stored once, and each completed by one worker run. */
async function expectEachCompletedOnce(worker: WorkerProcess, organizationId: string, scanIds: string[], maxUnlogged = 0, allowLostCommit = false) {
  const scans = await Promise.all(scanIds.map((id) => db.getScan(id)));
  expect(scans.filter((s) => s?.status !== "succeeded").map((s) => [s?.id, s?.status, s?.error])).toEqual([]);
  expect(scans.every((s) => s?.findingsCount === 8)).toBe(true);
  expect(await db.countFindings({ organizationId })).toBe(scansPerTest * 8);
  const completions = new Map<string, number>();
  for (const e of worker.events) if (e.msg === "scan completed" && e.scanId) completions.set(e.scanId, (completions.get(e.scanId) ?? 0) + 1);
  // No scan completed twice. A scan whose commit went through as the connection dropped
  // may have lost only its log line (the rows above show it completed once).
  const counts = scanIds.map((id) => [id, completions.get(id) ?? 0] as const);
  // The throwaway PostgreSQL server runs with synchronous_commit=off (speed), so an
  // immediate stop can drop a commit it had already acknowledged: the scan is then still
  // "running" in the database, its lease runs out, it is re-queued and completed again.
  // That is recovery, not a double completion: a second "completed" is allowed only after
  // a "re-queued after its runner stopped" for the same scan.
  const doubled = counts.filter(([, n]) => n > 1).map(([id]) => id);
  const unexplained = doubled.filter((id) => {
    const msgs = worker.events.filter((e) => e.scanId === id).map((e) => e.msg);
    const first = msgs.indexOf("scan completed");
    return !(allowLostCommit && msgs.indexOf("scan re-queued after its runner stopped", first) > first && msgs.filter((m) => m === "scan completed").length === 2);
  });
  expect(unexplained, JSON.stringify(worker.events.filter((e) => unexplained.includes(e.scanId as string)))).toEqual([]);
  expect(counts.filter(([, n]) => n === 0).length, JSON.stringify(worker.events.filter((e) => /error|fail|re-queued|retry/i.test(e.msg)).slice(0, 20))).toBeLessThanOrEqual(maxUnlogged);
  expect(worker.child.exitCode).toBeNull();
}

beforeAll(async () => {
  postgres = await startPostgres();
  const name = `poolguard_faults_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client(pgConfig(postgres.url));
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(postgres.url);
  url.pathname = `/${name}`;
  databaseUrl = url.toString();
  await applyMigrations(databaseUrl);
  process.env.DATABASE_URL = databaseUrl;
  db = await import("../../../lib/db/index.ts");
  copyDemoRepository(repo.dir);
}, 120_000);

afterAll(async () => {
  for (const w of workers) await w.kill("SIGKILL");
  await db?.disconnectDatabase();
  await postgres?.stop();
  repo.remove();
  process.env.DATABASE_URL = saved.DATABASE_URL;
  process.env.REDIS_URL = saved.REDIS_URL;
});

const workerEnv = (extra: Record<string, string | undefined>) => ({
  DATABASE_URL: databaseUrl,
  REDIS_URL: undefined,
  POOLGUARD_LEASE_SECONDS: "3",
  POOLGUARD_WORKER_CONCURRENCY: "2",
  POOLGUARD_ANALYZER_JOBS: "1",
  POOLGUARD_HEARTBEAT_SECONDS: "1",
  POOLGUARD_LOCAL_ROOTS: repo.dir,
  ...extra,
});

describe("faults under a running worker", () => {
  it("PostgreSQL restarted (immediate stop, down 3 s) while scans run: the worker reconnects and every scan completes once", async () => {
    const { organizationId, scanIds } = await queueScans({ async dispatchScan() {} }, "pg-restart");
    const worker = startWorker(workerEnv({}));
    workers.push(worker);
    try {
    await waitUntil("a few scans to complete", async () => (await db.countScans({ status: "succeeded" })) >= 4, 300_000, 200);
    // The restart happens with work left: scans running or still queued.
    expect(await db.countScans({ status: "succeeded" })).toBeLessThan(scansPerTest);
    await db.disconnectDatabase();
    await postgres.restart({ mode: "immediate", downMs: 3000 });
    await waitUntil(
      "every scan to finish after the restart",
      async () => (await db.countScans({ status: "succeeded" })) + (await db.countScans({ status: "failed" })) >= scansPerTest,
      400_000,
      500,
    );
    await expectEachCompletedOnce(worker, organizationId, scanIds, 1, true);
    // The heartbeat failed while the server was down and came back.
    expect(worker.events.some((e) => e.msg === "heartbeat failed; retrying")).toBe(true);
    await waitUntil("the worker's heartbeat after the restart", async () => (await db.listWorkerHeartbeats(3000)).live.length === 1, 15_000);
    await worker.kill("SIGTERM");
    expect((await db.listWorkerHeartbeats(3000)).live).toEqual([]);
    } finally {
      // Never leave this worker running into the next test (it would take that test's scans).
      await worker.kill("SIGKILL");
    }
  }, 900_000);

  it("Redis killed and started empty under a BullMQ worker: the queue recovers and every scan completes once", async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    let redis = await redisOn(port);
    const prefix = `poolguard-faults-${randomBytes(3).toString("hex")}`;
    process.env.REDIS_URL = redisUrl;
    process.env.POOLGUARD_QUEUE_PREFIX = prefix;
    const { bullDispatcher, closeBullQueue } = await import("../../../lib/jobs/bullmq.ts");
    try {
      const { organizationId, scanIds } = await queueScans(bullDispatcher, "redis-restart");
      await closeBullQueue();
      const worker = startWorker(workerEnv({ REDIS_URL: redisUrl, POOLGUARD_QUEUE_PREFIX: prefix }));
      workers.push(worker);
      await waitUntil("a few scans to complete", async () => (await db.countScans({ status: "succeeded" })) >= scansPerTest + 4, 300_000, 200);
      expect(await db.countScans({ status: "succeeded" })).toBeLessThan(2 * scansPerTest);
      await redis.stop();
      await new Promise((r) => setTimeout(r, 2000));
      redis = await redisOn(port);
      await waitUntil(
        "every scan to finish after the restart",
        async () => (await db.countScans({ status: "succeeded" })) + (await db.countScans({ status: "failed" })) >= 2 * scansPerTest,
        400_000,
        500,
      );
      await expectEachCompletedOnce(worker, organizationId, scanIds);
      expect(worker.events.some((e) => e.msg === "worker error" || e.msg === "sweep failed" || e.msg === "job failed")).toBe(true);
      await worker.kill("SIGTERM");
    } finally {
      for (const w of workers) await w.kill("SIGKILL");
      await closeBullQueue();
      await redis.stop();
      delete process.env.POOLGUARD_QUEUE_PREFIX;
    }
  }, 900_000);
});
