import { db } from "./client.ts";
import type { WebhookDeliveryStatus } from "./types.ts";

/**
 * Remember a webhook delivery. GitHub signs bodies but not timestamps, so a replayed
 * delivery is recognised by its X-GitHub-Delivery id: the unique index decides.
 */
export async function recordWebhookDelivery(input: {
  deliveryId: string;
  event: string;
  action?: string | null;
  installationId?: number | bigint | null;
}): Promise<{ duplicate: boolean }> {
  try {
    await db().webhookDelivery.create({
      data: {
        deliveryId: input.deliveryId,
        event: input.event,
        action: input.action ?? null,
        installationId: input.installationId == null ? null : BigInt(input.installationId),
      },
    });
    return { duplicate: false };
  } catch (error) {
    if ((error as { code?: string }).code === "P2002") return { duplicate: true };
    throw error;
  }
}

export async function markWebhookDelivery(deliveryId: string, status: WebhookDeliveryStatus, error?: string) {
  await db().webhookDelivery.update({
    where: { deliveryId },
    data: { status, error: error ?? null, processedAt: status === "received" ? null : new Date() },
  });
}
