import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BotHarness, botHarness, dbModule, leakyModule } from "../github-bot/harness.ts";
import { startWorker, waitUntil, type WorkerProcess } from "../pipeline/helpers.ts";

// A worker process SIGKILLed while it holds leased webhook deliveries, with more
// deliveries waiting behind them. Reviews of pull requests hold their lease while the
// fake GitHub holds the download of each head (GitHub being slow), so the kill is certain
// to land mid-work: the database shows the worker's leases when it dies. A second worker
// takes the leased deliveries over once their leases expire and works through the rest:
// every delivery ends processed exactly once (one "webhook processed" line across both
// workers, none failed), a killed one was started twice, a waiting one once, and each pull
// request has one completed check run (the unfinished one is taken over, not duplicated).

let h: BotHarness;
const workers: WorkerProcess[] = [];
const pullRequests = 3;
const pushes = 20;

beforeAll(async () => {
  h = await botHarness({ files: { "app/__init__.py": "", "app/db.py": dbModule }, runner: false });
}, 120_000);

afterAll(async () => {
  for (const w of workers) await w.kill("SIGKILL");
  await h?.cleanup();
});

async function deliveryRows(ids: string[]) {
  const { db } = await import("../../../lib/db/client.ts");
  return db().webhookDelivery.findMany({ where: { deliveryId: { in: ids } }, select: { deliveryId: true, status: true, attempts: true, error: true, leaseOwner: true, leaseExpiresAt: true, payload: true } });
}

/** A push to the default branch of a repository Poolguard does not know (processed as "ignored"). */
async function pushPayload(i: number) {
  const known = await h.repositoryPayload();
  const repository = { ...known, id: 990_000 + i, name: `elsewhere-${i}`, full_name: `acme/elsewhere-${i}` };
  return { ref: "refs/heads/main", before: "0".repeat(40), after: `${i}`.padStart(40, "a"), base_ref: null, compare: "", commits: [], created: false, deleted: false, forced: false, head_commit: null, pusher: { name: "dev" }, repository, sender: known.owner, installation: { id: h.installationId, node_id: "I" } };
}

describe("a worker SIGKILLed while it holds leased webhook deliveries", () => {
  it("leaves each delivery to the next worker: every one is processed exactly once after the restart", async () => {
    const env = {
      DATABASE_URL: process.env.DATABASE_URL,
      REDIS_URL: undefined,
      POOLGUARD_LEASE_SECONDS: "2",
      POOLGUARD_HEARTBEAT_SECONDS: "1",
      POOLGUARD_ANALYZER_JOBS: "1",
      GITHUB_APP_ID: String(h.fake.app.id),
      GITHUB_APP_PRIVATE_KEY: h.fake.app.privateKey,
      GITHUB_API_URL: h.fake.apiUrl,
      GITHUB_WEBHOOK_SECRET: h.secret,
      GITHUB_TOKEN: undefined,
    };
    const heads: string[] = [];
    const payloads = [];
    for (let i = 0; i < pullRequests; i++) {
      const number = await h.openPullRequest(`kill-${i}`, { [`app/kill_${i}.py`]: leakyModule(1, `kill_${i}`) });
      const payload = await h.pullRequestPayload("opened", number);
      heads.push(payload.pull_request.head.sha as string);
      payloads.push(payload);
    }
    // GitHub is slow to send the heads: every review waits on its download, lease held.
    const hold = h.fake.holdRequests({ method: "GET", path: /\/tarball\// });

    const first = startWorker(env);
    workers.push(first);
    await waitUntil("the first worker to start", async () => first.events.some((e) => e.msg === "worker started"), 60_000);
    const owner = first.events.find((e) => e.msg === "worker started")?.runner as string;
    const ids: string[] = [];
    for (const payload of payloads) {
      const answer = await h.deliver("pull_request", "pull-request-opened", payload);
      expect(answer.status).toBe(202);
      ids.push(answer.deliveryId);
    }
    for (let i = 0; i < pushes; i++) {
      const answer = await h.deliver("push", "push", await pushPayload(i));
      expect(answer.status).toBe(202);
      ids.push(answer.deliveryId);
    }

    // Kill only once the database shows the worker holding leases on reviews that are mid-way.
    await hold.arrived;
    const leased = await waitUntil(
      "the first worker to hold two leased deliveries",
      async () => {
        const rows = (await deliveryRows(ids)).filter((r) => r.status === "received" && r.leaseOwner === owner && (r.leaseExpiresAt?.getTime() ?? 0) > Date.now());
        return rows.length >= 2 ? rows : null;
      },
      60_000,
      50,
    );
    await first.kill("SIGKILL");
    const atKill = (await deliveryRows(ids)).filter((r) => r.status === "received");
    const killedMidWork = atKill.filter((r) => r.leaseOwner === owner).map((r) => r.deliveryId);
    expect(killedMidWork.length).toBeGreaterThanOrEqual(leased.length);
    // Work was still waiting behind the leased deliveries (the third review, the pushes).
    expect(atKill.length).toBeGreaterThan(killedMidWork.length);
    expect(first.events.filter((e) => e.msg === "webhook processed" && killedMidWork.includes(e.deliveryId as string))).toEqual([]);
    console.log(`worker SIGKILLed holding ${killedMidWork.length} leased deliveries, ${atKill.length - killedMidWork.length} more waiting, ${ids.length - atKill.length} processed before the kill`);
    hold.release();

    const second = startWorker(env);
    workers.push(second);
    await waitUntil(
      "every delivery to be processed after the restart",
      async () => (await deliveryRows(ids)).every((r) => r.status !== "received"),
      240_000,
      200,
    );
    const rows = await deliveryRows(ids);
    expect(rows).toHaveLength(ids.length);
    expect(rows.filter((r) => r.status !== "processed" || r.error !== null).map((r) => [r.deliveryId, r.status, r.error])).toEqual([]);
    expect(rows.every((r) => r.payload === null && r.leaseOwner === null)).toBe(true);
    // Started twice when it was killed mid-way (the lease ran out and the second worker took it), once otherwise.
    for (const row of rows) expect([row.deliveryId, row.attempts]).toEqual([row.deliveryId, killedMidWork.includes(row.deliveryId) ? 2 : 1]);

    await waitUntil("the second worker to log every processed delivery", async () => {
      const logged = new Set(second.events.filter((e) => e.msg === "webhook processed").map((e) => e.deliveryId));
      return ids.filter((id) => !first.events.some((e) => e.msg === "webhook processed" && e.deliveryId === id)).every((id) => logged.has(id));
    }, 15_000);
    const processedLines = new Map<string, number>();
    for (const e of [...first.events, ...second.events]) {
      if (e.msg === "webhook processed" && typeof e.deliveryId === "string") processedLines.set(e.deliveryId, (processedLines.get(e.deliveryId) ?? 0) + 1);
    }
    expect(ids.filter((id) => processedLines.get(id) !== 1)).toEqual([]);
    expect([...first.events, ...second.events].filter((e) => e.msg === "webhook failed")).toEqual([]);

    // One check run per reviewed head, completed by the second worker.
    for (const sha of heads) {
      const runs = h.fake.repos.get("acme/shop")?.checkRuns.filter((r) => r.headSha === sha) ?? [];
      expect(runs.map((r) => [r.status, r.conclusion])).toEqual([["completed", "failure"]]);
    }
    await second.kill("SIGTERM");
    expect(second.child.exitCode).toBe(0);
  }, 400_000);
});
