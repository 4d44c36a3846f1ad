import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis } from "../../../scripts/lib/redis.mjs";
import { startWorker, waitUntil, type WorkerProcess } from "../pipeline/helpers.ts";
import { type BotHarness, botHarness, dbModule, leakyModule } from "./harness.ts";

// Webhook work survives a worker that dies: the route stores the delivery and its
// payload and answers; a real worker process (scripts/worker.mjs) claims it and starts
// the review; it is SIGKILLed while the review downloads the pull request's head (the
// fake GitHub holds that request); a second worker takes the delivery over once the
// first one's lease has expired, and the check run completes once (the unfinished run
// is taken over, not duplicated). Both transports: the database, and BullMQ on Redis.

let h: BotHarness;
let redis: { url: string; stop: () => Promise<void> } | null = null;
let redisUrl: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  redisUrl = process.env.REDIS_URL ?? "";
  if (!redisUrl) {
    redis = await startRedis();
    redisUrl = redis.url;
  }
  h = await botHarness({ files: { "app/__init__.py": "", "app/db.py": dbModule }, runner: false });
});

afterAll(async () => {
  for (const w of workers) await w.kill("SIGKILL");
  await h?.cleanup();
  await redis?.stop();
});

async function delivery(deliveryId: string) {
  const { getWebhookDelivery } = await import("../../../lib/db/webhook-deliveries.ts");
  return getWebhookDelivery(deliveryId);
}

function checkRuns(sha: string) {
  return h.fake.repos.get("acme/shop")?.checkRuns.filter((r) => r.headSha === sha) ?? [];
}

async function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function killMidReviewAndRestart(transport: "database" | "bullmq") {
  const prefix = `poolguard-bot-${randomBytes(4).toString("hex")}`;
  const env = {
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: transport === "bullmq" ? redisUrl : undefined,
    POOLGUARD_QUEUE_PREFIX: prefix,
    POOLGUARD_LEASE_SECONDS: "2",
    GITHUB_APP_ID: String(h.fake.app.id),
    GITHUB_APP_PRIVATE_KEY: h.fake.app.privateKey,
    GITHUB_API_URL: h.fake.apiUrl,
    GITHUB_WEBHOOK_SECRET: h.secret,
    GITHUB_TOKEN: undefined,
  };
  const first = startWorker(env);
  workers.push(first);
  await waitUntil("the first worker to start", async () => first.events.some((e) => e.msg === "worker started"), 60_000);

  const number = await h.openPullRequest(`durable-${transport}`, { [`app/durable_${transport}.py`]: leakyModule(1, `durable_${transport}`) });
  const payload = await h.pullRequestPayload("opened", number);
  const headSha = payload.pull_request.head.sha as string;
  const hold = h.fake.holdRequests({ method: "GET", path: `/tarball/${headSha}` });
  // The route in this process queues on the same transport as the workers.
  const saved = { REDIS_URL: process.env.REDIS_URL, POOLGUARD_QUEUE_PREFIX: process.env.POOLGUARD_QUEUE_PREFIX };
  if (transport === "bullmq") Object.assign(process.env, { REDIS_URL: redisUrl, POOLGUARD_QUEUE_PREFIX: prefix });
  let answer: Awaited<ReturnType<BotHarness["deliver"]>>;
  try {
    answer = await h.deliver("pull_request", "pull-request-opened", payload);
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  expect(answer.status).toBe(202);
  const deliveryId = answer.deliveryId;

  await withTimeout("the first worker to start the review", hold.arrived, 60_000);
  expect(checkRuns(headSha)).toHaveLength(1);
  expect(checkRuns(headSha)[0]).toMatchObject({ status: "in_progress" });
  expect(await delivery(deliveryId)).toMatchObject({ status: "received", attempts: 1 });
  await first.kill("SIGKILL");
  hold.release();
  expect(first.events.some((e) => e.msg === "webhook processed")).toBe(false);

  const second = startWorker(env);
  workers.push(second);
  const done = await waitUntil(
    "the delivery to be processed after the restart",
    async () => {
      const row = await delivery(deliveryId);
      return row && row.status !== "received" ? row : null;
    },
    120_000,
    100,
  );
  expect(done).toMatchObject({ status: "processed", attempts: 2, error: null, payload: null });
  const runs = checkRuns(headSha);
  expect(runs).toHaveLength(1);
  expect(runs[0]).toMatchObject({ status: "completed", conclusion: "failure" });
  const suggestions = h.fake.repos.get("acme/shop")?.reviewComments.filter((c) => c.pull === number) ?? [];
  expect(suggestions).toHaveLength(1);
  await waitUntil("the second worker to log the processed delivery", async () => second.events.some((e) => e.msg === "webhook processed" && e.deliveryId === deliveryId), 15_000);
  expect(second.events.filter((e) => e.msg === "webhook processed" && e.deliveryId === deliveryId)).toHaveLength(1);

  // A redelivery of the same delivery is recorded once and not processed again.
  const again = await h.deliver("pull_request", "pull-request-opened", payload, deliveryId);
  expect(again.status).toBe(200);
  await new Promise((r) => setTimeout(r, 1500));
  expect(checkRuns(headSha)).toHaveLength(1);
  expect(second.events.filter((e) => e.msg === "webhook started" && e.deliveryId === deliveryId)).toHaveLength(1);

  await second.kill("SIGTERM");
  expect(second.child.exitCode).toBe(0);
}

describe("a worker killed in the middle of a review", () => {
  it("on the database transport: the delivery is taken over after a restart and the check run completes once", async () => {
    await killMidReviewAndRestart("database");
  }, 300_000);

  it("on BullMQ: the delivery is taken over after a restart and the check run completes once", async () => {
    await killMidReviewAndRestart("bullmq");
  }, 300_000);
});
