import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgConfig } from "../../../scripts/lib/migrations.mjs";
import { startRedis } from "../../../scripts/lib/redis.mjs";
import { testProvider, useFreshDatabase } from "../db/fresh-database.ts";
import { copyDemoRepository, startWorker, tempDir, waitUntil, type WorkerProcess } from "./helpers.ts";

// Two scheduler instances (worker processes) share a schedule that comes due every
// 3 seconds: each slot fires once, on one of them. The repository is a git checkout
// whose head does not move, so after the first successful scan runs are `skipped`.

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
let redis: { url: string; stop: () => Promise<void> } | null = null;
let redisUrl = "";
const repo = tempDir("schedule-repo");
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  redisUrl = process.env.REDIS_URL ?? "";
  if (!redisUrl) {
    redis = await startRedis();
    redisUrl = redis.url;
  }
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
  copyDemoRepository(repo.dir);
  const git = (...args: string[]) => execFileSync("git", ["-C", repo.dir, ...args], { stdio: "ignore" });
  git("init", "-q");
  git("add", ".");
  git("-c", "user.email=t@example.test", "-c", "user.name=t", "commit", "-q", "-m", "initial");
});
afterAll(async () => {
  for (const w of workers) await w.kill("SIGKILL");
  await db.disconnectDatabase();
  await database.drop();
  await redis?.stop();
  repo.remove();
});

// "bullmq-postgres": BullMQ job schedulers on BullMQ's PostgreSQL backend (POOLGUARD_QUEUE=postgres).
async function twoInstancesFireOnce(transport: "database" | "bullmq" | "bullmq-postgres") {
  const { nextRun } = await import("../../../lib/jobs/cron.ts");
  const user = await db.createUser({ email: `${transport}@example.test`, name: transport });
  const organization = await db.createOrganization({ slug: `sched-${transport}`, name: transport, ownerUserId: user.id });
  const repository = await db.createRepository({ organizationId: organization.id, provider: "local", name: "scheduled", localPath: repo.dir });
  // Every 3 seconds (six-field cron, seconds first): set directly, the API allows at
  // most every 5 minutes.
  const cron = "*/3 * * * * *";
  await db.saveSchedule(repository.id, { cron, enabled: true, nextRunAt: nextRun(cron) });
  const env = {
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: transport === "bullmq" ? redisUrl : undefined,
    POOLGUARD_QUEUE: transport === "bullmq-postgres" ? "postgres" : undefined,
    POOLGUARD_QUEUE_PREFIX: `poolguard-sched-${randomBytes(4).toString("hex")}`,
    POOLGUARD_LEASE_SECONDS: "3",
    POOLGUARD_LOCAL_ROOTS: repo.dir,
  };
  const instances = [startWorker(env), startWorker(env)];
  workers.push(...instances);
  const scheduleScans = async () => (await db.listScans(repository.id, { take: 1000 })).filter((s) => s.trigger === "schedule");
  await waitUntil(
    "a scheduled scan to succeed and later runs to be skipped",
    async () => {
      const scans = await scheduleScans();
      return scans.some((s) => s.status === "succeeded") && scans.filter((s) => s.status === "skipped").length >= 2;
    },
    180_000,
    250,
  );
  for (const instance of instances) await instance.kill("SIGTERM");
  // Each instance ran on the transport this case is about.
  for (const instance of instances) {
    expect(instance.events.find((e) => e.msg === "worker started")?.transport).toBe(transport === "database" ? "database" : "bullmq");
  }
  await db.saveSchedule(repository.id, { cron, enabled: false, nextRunAt: null });
  if (transport === "bullmq-postgres") {
    // The job scheduler lives in BullMQ's schema of the app database.
    const client = new pg.Client(pgConfig(process.env.DATABASE_URL as string));
    await client.connect();
    try {
      expect((await client.query("SELECT count(*)::int AS n FROM bullmq.scheduler")).rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  }

  const events = instances.flatMap((w) => w.events.filter((e) => typeof e.msg === "string" && e.msg.startsWith("schedule:") && e.dueAt));
  // A busy machine can see one slot handed to both instances (BullMQ's PostgreSQL backend;
  // on Redis too, when a job whose 3-second lease ran out is taken over as stalled); the
  // slot's idempotency key turns the second away ("slot already handled"), so it still
  // fires once: that is the property checked below, on every transport.
  const turnedAway = events.filter((e) => e.msg === "schedule: slot already handled");
  const outcomes = events.filter((e) => e.msg !== "schedule: slot already handled");
  const bySlot = new Map<string, number>();
  for (const e of outcomes) bySlot.set(e.dueAt as string, (bySlot.get(e.dueAt as string) ?? 0) + 1);
  for (const e of turnedAway) expect(bySlot.get(e.dueAt as string), `slot ${e.dueAt} turned away but never fired`).toBe(1);
  expect([...bySlot.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  expect(bySlot.size).toBeGreaterThanOrEqual(3);
  const scans = await scheduleScans();
  const keys = scans.map((s) => s.idempotencyKey);
  expect(new Set(keys).size).toBe(keys.length);
  // Slots are 3 seconds apart.
  const slots = [...bySlot.keys()].map((k) => Date.parse(k)).sort((x, y) => x - y);
  for (let i = 1; i < slots.length; i++) expect((slots[i] - slots[i - 1]) % 3000).toBe(0);
  const head = execFileSync("git", ["-C", repo.dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  expect(scans.filter((s) => s.status === "skipped").every((s) => s.commitSha === head)).toBe(true);
  expect(scans.find((s) => s.status === "succeeded")?.commitSha).toBe(head);
}

describe("schedules", () => {
  it("fire once across two instances on the database transport, and skip when the head has not moved", async () => {
    await twoInstancesFireOnce("database");
  }, 300_000);

  it("fire once across two instances with BullMQ job schedulers", async () => {
    await twoInstancesFireOnce("bullmq");
  }, 300_000);

  // BullMQ's PostgreSQL backend needs the app database to be PostgreSQL: the PostgreSQL pass only.
  if (testProvider() === "postgresql") {
    it("fire once across two instances with BullMQ job schedulers kept in PostgreSQL", async () => {
      await twoInstancesFireOnce("bullmq-postgres");
    }, 300_000);
  }
});
