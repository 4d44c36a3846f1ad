import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgConfig } from "../../../scripts/lib/migrations.mjs";
import { startRedis } from "../../../scripts/lib/redis.mjs";
import { testProvider, useFreshDatabase } from "../db/fresh-database.ts";
import { copyDemoRepository, startWorker, tempDir, waitUntil, type WorkerProcess } from "./helpers.ts";

// BullMQ on a real Redis (loopback), and in the PostgreSQL pass also on BullMQ's
// PostgreSQL backend (POOLGUARD_QUEUE=postgres, the app's own database): two worker
// processes take the queued scans (200 on Redis), one is SIGKILLed half-way, and every
// scan completes exactly once.

type Store = "redis" | "postgres";
const stores: { store: Store; scans: number }[] = [{ store: "redis", scans: 200 }];
if (testProvider() === "postgresql") stores.push({ store: "postgres", scans: 200 });

let redis: { url: string; stop: () => Promise<void> } | null = null;
const workers: WorkerProcess[] = [];
const saved = { REDIS_URL: process.env.REDIS_URL, POOLGUARD_QUEUE_PREFIX: process.env.POOLGUARD_QUEUE_PREFIX, POOLGUARD_QUEUE: process.env.POOLGUARD_QUEUE };
const baseDatabaseUrl = process.env.DATABASE_URL;

beforeAll(async () => {
  if (!process.env.REDIS_URL) {
    redis = await startRedis();
    saved.REDIS_URL = redis.url;
  }
});
afterAll(async () => {
  for (const w of workers) await w.kill("SIGKILL");
  await redis?.stop();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  process.env.DATABASE_URL = baseDatabaseUrl;
});

describe.each(stores)("BullMQ transport on $store", ({ store, scans: total }) => {
  let database: Awaited<ReturnType<typeof useFreshDatabase>>;
  let db: typeof import("../../../lib/db/index.ts");
  const repo = tempDir(`bullmq-${store}-repo`);
  const prefix = `poolguard-test-${randomBytes(4).toString("hex")}`;
  // The queue settings this store needs, in this process and in the workers.
  const queueEnv = () =>
    store === "postgres" ? { POOLGUARD_QUEUE: "postgres", REDIS_URL: undefined, POOLGUARD_QUEUE_PREFIX: undefined } : { POOLGUARD_QUEUE: undefined, REDIS_URL: saved.REDIS_URL, POOLGUARD_QUEUE_PREFIX: prefix };

  beforeAll(async () => {
    process.env.DATABASE_URL = baseDatabaseUrl;
    for (const [key, value] of Object.entries(queueEnv())) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    database = await useFreshDatabase();
    db = await import("../../../lib/db/index.ts");
  });
  afterAll(async () => {
    for (const w of workers) await w.kill("SIGKILL");
    const { bullQueue, closeBullQueue } = await import("../../../lib/jobs/bullmq.ts");
    await bullQueue().obliterate({ force: true });
    await closeBullQueue();
    await db.disconnectDatabase();
    await database.drop();
    repo.remove();
  });

  it(`two workers take ${total} queued scans; one is killed half-way; every scan completes exactly once`, async () => {
    if (store === "redis") expect(new URL(process.env.REDIS_URL as string).hostname).toBe("127.0.0.1");
    else expect(process.env.REDIS_URL).toBeUndefined();
    copyDemoRepository(repo.dir);
    const { requestScan } = await import("../../../lib/jobs/index.ts");
    const { bullDispatcher, bullQueue } = await import("../../../lib/jobs/bullmq.ts");
    const user = await db.createUser({ email: "bull@example.test", name: "b" });
    const organization = await db.createOrganization({ slug: `bull-${store}`, name: "Bull", ownerUserId: user.id });
    const scanIds: string[] = [];
    for (let i = 0; i < total; i++) {
      const repository = await db.createRepository({ organizationId: organization.id, provider: "local", name: `r${i}`, localPath: repo.dir });
      const { scan, created } = await requestScan(bullDispatcher, { repositoryId: repository.id, trigger: "manual" });
      expect(created).toBe(true);
      scanIds.push(scan.id);
    }
    // Queuing again changes nothing: the same repository and commit is already waiting.
    const again = await requestScan(bullDispatcher, { repositoryId: (await db.getScan(scanIds[0]))?.repositoryId as string, trigger: "manual" });
    expect(again).toMatchObject({ created: false, scan: { id: scanIds[0] } });
    expect(await bullQueue().getWaitingCount()).toBe(total);

    const env = {
      DATABASE_URL: process.env.DATABASE_URL,
      ...queueEnv(),
      POOLGUARD_LEASE_SECONDS: "3",
      POOLGUARD_WORKER_CONCURRENCY: "2",
      POOLGUARD_ANALYZER_JOBS: "1",
      POOLGUARD_LOCAL_ROOTS: repo.dir,
    };
    const a = startWorker(env);
    const b = startWorker(env);
    workers.push(a, b);
    const succeeded = () => db.countScans({ status: "succeeded" });
    await waitUntil("half of the scans to complete", async () => (await succeeded()) >= total / 2, 400_000, 250);
    const runningOnA = a.events.filter((e) => e.msg === "scan started").length - a.events.filter((e) => e.msg === "scan completed").length;
    await a.kill("SIGKILL");

    await waitUntil("every scan to finish", async () => (await db.countScans({ status: "succeeded" })) + (await db.countScans({ status: "failed" })) >= total, 400_000, 250);
    const scans = await Promise.all(scanIds.map((id) => db.getScan(id)));
    expect(scans.filter((s) => s?.status !== "succeeded").map((s) => [s?.id, s?.status, s?.error])).toEqual([]);
    expect(scans.every((s) => s?.findingsCount === 8)).toBe(true);

    // Exactly once: no scan was completed by both workers, and each repository holds
    // its 8 findings once, first seen by its one scan.
    const completions = new Map<string, number>();
    for (const e of [...a.events, ...b.events]) if (e.msg === "scan completed" && e.scanId) completions.set(e.scanId, (completions.get(e.scanId) ?? 0) + 1);
    expect([...completions.values()].every((n) => n === 1)).toBe(true);
    // A scan committed in the instant before the kill may have lost only its log line.
    expect(completions.size).toBeGreaterThanOrEqual(total - Math.max(1, runningOnA));
    expect(await db.countFindings({ organizationId: organization.id })).toBe(total * 8);
    for (const s of scans) {
      const findings = await db.listFindings({ repositoryId: s?.repositoryId });
      expect(findings.every((f) => f.firstSeenScanId === s?.id)).toBe(true);
    }
    // Scans A was running when it died were taken over (a second start).
    const restarted = scans.filter((s) => (s?.attempts ?? 0) > 1).length;
    expect(restarted).toBeLessThanOrEqual(2);
    expect(b.events.filter((e) => e.msg === "scan completed").length).toBeGreaterThan(0);
    await b.kill("SIGTERM");
    if (store === "postgres") {
      // The jobs went through BullMQ's own schema in the app database, next to (not among) the app's tables.
      const client = new pg.Client(pgConfig(process.env.DATABASE_URL as string));
      await client.connect();
      try {
        const tables = await client.query<{ schema: string; name: string }>(
          "SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_name IN ('job', 'scheduler', 'Scan')",
        );
        expect(tables.rows.map((r) => `${r.schema}.${r.name}`).sort()).toEqual(["bullmq.job", "bullmq.scheduler", "public.Scan"]);
      } finally {
        await client.end();
      }
    }
  }, 900_000);
});
