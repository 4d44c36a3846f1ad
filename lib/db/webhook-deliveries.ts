import { db } from "./client.ts";
import type { WebhookDeliveryStatus } from "./types.ts";

// GitHub webhook deliveries: recorded once by the webhook route (with the verified
// payload), then processed by a job runner under a lease, like scans: a runner that
// dies mid-way leaves the delivery to the next one once its lease has expired.

/**
 * Remember a webhook delivery. GitHub signs bodies but not timestamps, so a replayed
 * delivery is recognised by its X-GitHub-Delivery id: the unique index decides.
 */
export async function recordWebhookDelivery(input: {
  deliveryId: string;
  event: string;
  action?: string | null;
  installationId?: number | bigint | null;
  /** The verified body, for the job runner that processes the delivery. */
  payload?: string | null;
  /** The web request's id, for the job runner's log lines. */
  requestId?: string | null;
}): Promise<{ duplicate: boolean }> {
  try {
    await db().webhookDelivery.create({
      data: {
        deliveryId: input.deliveryId,
        event: input.event,
        action: input.action ?? null,
        installationId: input.installationId == null ? null : BigInt(input.installationId),
        payload: input.payload ?? null,
        requestId: input.requestId ?? null,
      },
    });
    return { duplicate: false };
  } catch (error) {
    if ((error as { code?: string }).code === "P2002") return { duplicate: true };
    throw error;
  }
}

/** Processed or failed: the lease is dropped and the payload, no longer needed, too. */
export async function markWebhookDelivery(deliveryId: string, status: WebhookDeliveryStatus, error?: string) {
  await db().webhookDelivery.update({
    where: { deliveryId },
    data: {
      status,
      error: error ?? null,
      processedAt: status === "received" ? null : new Date(),
      ...(status === "received" ? {} : { payload: null, leaseOwner: null, leaseExpiresAt: null }),
    },
  });
}

export type DeliveryClaim =
  | { kind: "claimed"; event: string; payload: string | null; attempts: number; requestId: string | null }
  /** Another runner holds it until then (it may have died: retry after). */
  | { kind: "held"; until: Date }
  /** Unknown, or already processed or failed. */
  | { kind: "gone" };

/**
 * Take a received delivery for `leaseMs`: a conditional update, so of several runners
 * (or a redelivered BullMQ job) exactly one gets it while the lease lasts.
 */
export async function claimWebhookDelivery(deliveryId: string, owner: string, leaseMs: number, now = new Date()): Promise<DeliveryClaim> {
  const claimed = await db().webhookDelivery.updateMany({
    where: { deliveryId, status: "received", OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: now } }] },
    data: { leaseOwner: owner, leaseExpiresAt: new Date(now.getTime() + leaseMs), attempts: { increment: 1 } },
  });
  const row = await db().webhookDelivery.findUnique({ where: { deliveryId }, select: { event: true, payload: true, attempts: true, status: true, leaseOwner: true, leaseExpiresAt: true, requestId: true } });
  if (!row || row.status !== "received") return { kind: "gone" };
  if (claimed.count === 1 && row.leaseOwner === owner) return { kind: "claimed", event: row.event, payload: row.payload, attempts: row.attempts, requestId: row.requestId };
  return { kind: "held", until: row.leaseExpiresAt ?? now };
}

/** Extend the lease while the work goes on; false when another runner took the delivery over. */
export async function renewWebhookDeliveryLease(deliveryId: string, owner: string, leaseMs: number): Promise<boolean> {
  const renewed = await db().webhookDelivery.updateMany({
    where: { deliveryId, status: "received", leaseOwner: owner },
    data: { leaseExpiresAt: new Date(Date.now() + leaseMs) },
  });
  return renewed.count === 1;
}

/** Deliveries waiting for a runner: never claimed, or their runner's lease has expired. Oldest first. */
export async function listPendingWebhookDeliveries(take = 20, now = new Date()) {
  return db().webhookDelivery.findMany({
    where: { status: "received", OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: now } }] },
    orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
    take,
    select: { deliveryId: true, attempts: true, receivedAt: true, leaseExpiresAt: true },
  });
}

export async function getWebhookDelivery(deliveryId: string) {
  return db().webhookDelivery.findUnique({ where: { deliveryId } });
}

export async function countWebhookDeliveries(where: { status?: WebhookDeliveryStatus } = {}): Promise<number> {
  return db().webhookDelivery.count({ where });
}
