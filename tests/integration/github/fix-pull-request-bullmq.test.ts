// The fix pull request job on the BullMQ transport: requested from the web side, run by
// a runner on a real Redis (loopback), against the fake GitHub with a token.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../../lib/analyzer/index.ts";
import { startRedis } from "../../../scripts/lib/redis.mjs";
import { type Harness, harness } from "../../unit/github/setup.ts";
import { useFreshDatabase } from "../db/fresh-database.ts";

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
let redis: { url: string; stop: () => Promise<void> } | null = null;
let h: Harness;
const keys = ["REDIS_URL", "POOLGUARD_QUEUE_PREFIX", "GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_APP_ID"] as const;
const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
const quiet = { info: () => {}, error: () => {} };

beforeAll(async () => {
  if (!process.env.REDIS_URL) {
    redis = await startRedis();
    process.env.REDIS_URL = redis.url;
  }
  process.env.POOLGUARD_QUEUE_PREFIX = `poolguard-fixpr-${randomBytes(4).toString("hex")}`;
  h = await harness();
  delete process.env.GITHUB_APP_ID;
  process.env.GITHUB_TOKEN = h.token;
  process.env.GITHUB_API_URL = h.fake.apiUrl;
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
});
afterAll(async () => {
  const { bullQueue, closeBullQueue } = await import("../../../lib/jobs/bullmq.ts");
  await bullQueue().obliterate({ force: true });
  await closeBullQueue();
  await db?.disconnectDatabase();
  await database?.drop();
  await h?.cleanup();
  await redis?.stop();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe("fix pull requests through BullMQ", () => {
  it("are queued by the request and opened by a runner", async () => {
    const user = await db.createUser({ email: "m@acme.test", name: "m" });
    const organization = await db.createOrganization({ slug: "acme", name: "Acme", ownerUserId: user.id });
    const repository = await db.createRepository({ organizationId: organization.id, provider: "github", name: "acme/shop" });
    const snap = await h.snapshot();
    const record = await db.createScan({ repositoryId: repository.id, trigger: "manual" });
    await db.completeScan(record.id, await scan({ root: snap.root, fix: "none" }));
    const picked = (await db.listFindings({ repositoryId: repository.id })).find((f) => f.rule === "connection-not-closed");
    expect(picked?.fix?.safety).toBe("safe");

    const { requestFixPullRequests, startRunner, transportKind } = await import("../../../lib/jobs/index.ts");
    expect(transportKind()).toBe("bullmq");
    await requestFixPullRequests({ organizationId: organization.id, repositoryId: repository.id, findingIds: [picked?.id as string], actorUserId: user.id, log: quiet });
    // Queued, not run: nothing on GitHub before a runner takes it.
    expect(h.fake.pulls(h.fullName)).toEqual([]);
    const runner = await startRunner({ log: quiet });
    try {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && h.fake.pulls(h.fullName).length === 0) await new Promise((r) => setTimeout(r, 200));
      expect(h.fake.pulls(h.fullName).map((p) => p.head)).toEqual(["poolguard/fix-connection-not-closed"]);
      const until = Date.now() + 10_000;
      let actions: string[] = [];
      while (Date.now() < until) {
        actions = ((await db.getFindingInOrganization(picked?.id as string, organization.id))?.history ?? []).map((e) => e.action);
        if (actions.length > 1) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(actions).toEqual(["finding.fix-pr-requested", "finding.fix-pr-opened"]);
      const view = await db.getFindingInOrganization(picked?.id as string, organization.id);
      expect(view?.pullRequests.map((pr) => pr.number)).toEqual([h.fake.pulls(h.fullName)[0].number]);
    } finally {
      await runner.stop();
    }
  });
});
