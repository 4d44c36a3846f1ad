import { NextResponse } from "next/server";
import { checkDatabase, listWorkerHeartbeats, queueDepth } from "../../../lib/db/index.ts";
import { heartbeatStaleMs } from "../../../lib/jobs/heartbeat.ts";
import packageJson from "../../../package.json" with { type: "json" };

export const dynamic = "force-dynamic";

// GET /api/health: is this installation able to do its work?
//   database  reachable and migrated (required)
//   redis     answers PING when REDIS_URL is set (required then: jobs travel through it)
//   queue     scans queued/running, the age of the oldest due queued scan, webhook deliveries not processed yet
//   workers   live (a heartbeat within three beats) and stale (missed them) worker processes
// 200 when healthy, 503 otherwise, with the reasons in `problems`. "No live worker" is a
// problem only when work is waiting: a web instance with no job in sight is healthy.
// `?scope=web` checks only what this web process needs to answer requests (the database),
// for load balancers that should not take every web instance out when the workers are down.

async function pingRedis(url: string): Promise<{ ok: boolean; latencyMs?: number; error?: string }> {
  const { default: Redis } = await import("ioredis");
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, enableOfflineQueue: false, retryStrategy: () => null });
  client.on("error", () => {});
  const started = performance.now();
  try {
    await client.connect();
    await client.ping();
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message.split("\n")[0] : String(error) };
  } finally {
    client.disconnect();
  }
}

export async function GET(request: Request) {
  const scope = new URL(request.url).searchParams.get("scope") === "web" ? "web" : "all";
  const database = await checkDatabase();
  const problems: string[] = [];
  if (!database.ok) problems.push("database unreachable");
  const body: Record<string, unknown> = { status: "ok", version: packageJson.version, database };
  if (scope === "all" && database.ok) {
    const staleMs = heartbeatStaleMs();
    const [queue, workers] = await Promise.all([queueDepth(), listWorkerHeartbeats(staleMs)]);
    const present = (w: (typeof workers.live)[number]) => ({
      id: w.id,
      transport: w.transport,
      hostname: w.hostname,
      pid: w.pid,
      startedAt: w.startedAt.toISOString(),
      lastSeenAt: w.lastSeenAt.toISOString(),
      secondsSinceLastSeen: Math.round((Date.now() - w.lastSeenAt.getTime()) / 1000),
    });
    body.queue = queue;
    body.workers = { live: workers.live.length, stale: workers.stale.length, staleAfterSeconds: staleMs / 1000, list: [...workers.live.map(present), ...workers.stale.map(present)] };
    const waiting = queue.scansQueued > 0 && queue.oldestQueuedSeconds * 1000 > staleMs;
    if (workers.live.length === 0 && waiting) problems.push(`no live worker and ${queue.scansQueued} scan(s) waiting`);
  }
  if (scope === "all" && process.env.REDIS_URL) {
    const redis = await pingRedis(process.env.REDIS_URL);
    body.redis = redis;
    if (!redis.ok) problems.push("redis unreachable");
  }
  body.status = problems.length === 0 ? "ok" : "unhealthy";
  body.problems = problems;
  return NextResponse.json(body, { status: problems.length === 0 ? 200 : 503, headers: { "cache-control": "no-store" } });
}
