import { z } from "zod";
import { markWebhookDelivery } from "../db/index.ts";
import { botContext } from "../github-bot/context.ts";
import { handlers } from "../github-bot/handlers/index.ts";
import type { HandlerResult } from "../github-bot/handlers/types.ts";
import { jobNames } from "./policy.ts";

// Job: process one GitHub webhook delivery (already verified and recorded by
// POST /api/github/webhooks). The delivery row moves to processed or failed.

export const name = jobNames.processGitHubWebhook;

export const payloadSchema = z.object({
  deliveryId: z.string().min(1),
  event: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
});
export type ProcessGitHubWebhookPayload = z.infer<typeof payloadSchema>;

/** One job per delivery: GitHub reuses the delivery id when a delivery is redelivered. */
export function idempotencyKey(payload: Pick<ProcessGitHubWebhookPayload, "deliveryId">): string {
  return `github-delivery-${payload.deliveryId}`;
}

export async function handle(raw: unknown): Promise<HandlerResult> {
  const { deliveryId, event, payload } = payloadSchema.parse(raw);
  const ctx = botContext();
  const handler = handlers[event];
  if (!handler) {
    await markWebhookDelivery(deliveryId, "processed");
    return { kind: "ignored", reason: `event ${event}` };
  }
  try {
    const result = await handler(payload, ctx);
    await markWebhookDelivery(deliveryId, "processed");
    ctx.log.info("webhook processed", { deliveryId, event, action: payload.action, ...result });
    return result;
  } catch (error) {
    const message = (error as Error).message;
    await markWebhookDelivery(deliveryId, "failed", message.slice(0, 2000));
    ctx.log.error("webhook failed", { deliveryId, event, action: payload.action, error: message });
    return { kind: "failed", error: message };
  }
}
