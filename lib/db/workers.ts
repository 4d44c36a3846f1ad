import { db } from "./client.ts";

// Worker heartbeats and queue depth, for /api/health. A worker upserts its row on a timer
// and deletes it on a clean stop; a row whose last beat is older than the staleness
// window belongs to a worker that died (SIGKILL, lost machine) or hangs.

export async function recordWorkerHeartbeat(input: { id: string; transport: string; hostname: string; pid: number; startedAt: Date }, now = new Date()) {
  await db().workerHeartbeat.upsert({
    where: { id: input.id },
    create: { ...input, lastSeenAt: now },
    update: { lastSeenAt: now },
  });
}

export async function removeWorkerHeartbeat(id: string) {
  await db().workerHeartbeat.deleteMany({ where: { id } });
}

export type WorkerView = { id: string; transport: string; hostname: string; pid: number; startedAt: Date; lastSeenAt: Date };

/** Workers seen within `staleMs` (live) and the others (stale), newest first; stale rows older than `forgetMs` are deleted. */
export async function listWorkerHeartbeats(staleMs: number, now = new Date(), forgetMs = 24 * 3600_000): Promise<{ live: WorkerView[]; stale: WorkerView[] }> {
  await db().workerHeartbeat.deleteMany({ where: { lastSeenAt: { lt: new Date(now.getTime() - forgetMs) } } });
  const rows = await db().workerHeartbeat.findMany({ orderBy: { lastSeenAt: "desc" }, take: 200 });
  const cutoff = now.getTime() - staleMs;
  return { live: rows.filter((r) => r.lastSeenAt.getTime() >= cutoff), stale: rows.filter((r) => r.lastSeenAt.getTime() < cutoff) };
}

/** Work waiting or running: scans by state, the oldest queued scan, webhook deliveries received but not processed yet. */
export async function queueDepth(now = new Date()) {
  const [queued, running, oldest, webhooksPending] = await Promise.all([
    db().scan.count({ where: { status: "queued" } }),
    db().scan.count({ where: { status: "running" } }),
    db().scan.findFirst({ where: { status: "queued", OR: [{ runAfter: null }, { runAfter: { lte: now } }] }, orderBy: { createdAt: "asc" }, select: { createdAt: true } }),
    db().webhookDelivery.count({ where: { status: "received" } }),
  ]);
  return {
    scansQueued: queued,
    scansRunning: running,
    oldestQueuedSeconds: oldest ? Math.max(0, Math.round((now.getTime() - oldest.createdAt.getTime()) / 1000)) : 0,
    webhooksPending,
  };
}
