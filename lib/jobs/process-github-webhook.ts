import { z } from "zod";
import {
  claimWebhookDelivery,
  listPendingWebhookDeliveries,
  markWebhookDelivery,
  renewWebhookDeliveryLease,
} from "../db/webhook-deliveries.ts";
import { botContext } from "../github-bot/context.ts";
import { handlers } from "../github-bot/handlers/index.ts";
import { warmAnalyzer } from "../github-bot/review.ts";
import type { HandlerResult } from "../github-bot/handlers/types.ts";
import { withStoredRequestId } from "../log.ts";
import type { JobContext, Logger } from "./context.ts";
import { jobNames, retryPolicy, transportKind } from "./policy.ts";

// Job: process one GitHub webhook delivery, already verified and recorded (with its
// payload) by POST /api/github/webhooks. The delivery row is the job's durable state:
// a runner claims it under a lease (renewed while it works), so a runner killed
// mid-way leaves it to the next one once the lease expires, and a job delivered twice
// (a stalled BullMQ job, the sweeper) is processed once. The row ends processed or
// failed. Handlers are idempotent on what they act on (one check run per head, comments
// keyed by fingerprint), so work a dead runner had begun is finished, not duplicated.

export const name = jobNames.processGitHubWebhook;

export const payloadSchema = z.object({ deliveryId: z.string().min(1) });
export type ProcessGitHubWebhookPayload = z.infer<typeof payloadSchema>;

/** One job per delivery and start: GitHub reuses the delivery id when a delivery is redelivered (recorded once). */
export function idempotencyKey(payload: ProcessGitHubWebhookPayload, attempts = 0): string {
  return `github-delivery-${payload.deliveryId}-a${attempts}`;
}

export type WebhookJobResult =
  | (HandlerResult & { deliveryId: string })
  | { kind: "held"; until: Date }
  | { kind: "gone" };

/** Run one delivery's handler, if this runner can claim it. */
export async function handle(raw: unknown, ctx: Pick<JobContext, "owner" | "leaseMs" | "heartbeatMs" | "log">): Promise<WebhookJobResult> {
  const { deliveryId } = payloadSchema.parse(raw);
  const claim = await claimWebhookDelivery(deliveryId, ctx.owner, ctx.leaseMs);
  if (claim.kind !== "claimed") return claim;
  // Every line written for this delivery (and the scan it may queue) carries the request
  // id of the web request that recorded it.
  return withStoredRequestId(claim.requestId, () => processClaimed(deliveryId, claim, ctx));
}

async function processClaimed(
  deliveryId: string,
  claim: Extract<Awaited<ReturnType<typeof claimWebhookDelivery>>, { kind: "claimed" }>,
  ctx: Pick<JobContext, "owner" | "leaseMs" | "heartbeatMs" | "log">,
): Promise<WebhookJobResult> {
  const bot = botContext();
  if (claim.attempts > retryPolicy.attempts) {
    const error = `interrupted ${claim.attempts - 1} times; not tried again`;
    await markWebhookDelivery(deliveryId, "failed", error);
    bot.log.error("webhook failed", { deliveryId, event: claim.event, error });
    return { kind: "failed", deliveryId, error };
  }
  if (claim.payload === null) {
    await markWebhookDelivery(deliveryId, "failed", "no payload stored for this delivery");
    return { kind: "failed", deliveryId, error: "no payload stored" };
  }
  const heartbeat = setInterval(() => {
    renewWebhookDeliveryLease(deliveryId, ctx.owner, ctx.leaseMs).catch((error) => ctx.log.error("webhook lease renewal failed", { deliveryId, error: (error as Error).message }));
  }, ctx.heartbeatMs);
  const event = claim.event;
  let payload: Record<string, unknown> = {};
  try {
    payload = JSON.parse(claim.payload);
    bot.log.info("webhook started", { deliveryId, event, action: payload.action, attempt: claim.attempts });
    const handler = handlers[event];
    const result = handler ? await handler(payload, bot) : { kind: "ignored", reason: `event ${event}` };
    await markWebhookDelivery(deliveryId, "processed");
    bot.log.info("webhook processed", { deliveryId, event, action: payload.action, ...result });
    return { ...result, deliveryId };
  } catch (error) {
    const message = (error as Error).message;
    await markWebhookDelivery(deliveryId, "failed", message.slice(0, 2000));
    bot.log.error("webhook failed", { deliveryId, event, action: payload.action, error: message });
    return { kind: "failed", deliveryId, error: message };
  } finally {
    clearInterval(heartbeat);
  }
}

/** Runners load the analyzer before they take work (see review.ts). */
export { warmAnalyzer };

// Runners in this process that poll the database: the webhook route wakes them, so a
// delivery received by a process that also runs jobs starts at once.
const localPollers = new Set<() => void>();

/** Hand a recorded delivery to the job runners: a BullMQ job with REDIS_URL, else the runners polling the database. */
export async function enqueueDelivery(deliveryId: string, log?: Logger): Promise<void> {
  if (transportKind() === "bullmq") {
    try {
      const { bullQueue, githubQueueName } = await import("./bullmq.ts");
      await bullQueue(undefined, githubQueueName).add(name, { deliveryId }, { jobId: idempotencyKey({ deliveryId }), attempts: 1 });
    } catch (error) {
      // The delivery is stored: the runners' sweeper queues it once Redis answers again.
      log?.error("could not queue the webhook delivery; the sweeper will", { deliveryId, error: (error as Error).message });
    }
    return;
  }
  for (const wake of localPollers) wake();
}

/**
 * The database transport's loop for webhook deliveries, beside the scan loop: reviews
 * must not wait behind a long scan, and a pull request's check should start within a
 * fraction of a second, so it polls often (an indexed query on pending rows).
 */
export function startDeliveryPoller(ctx: Pick<JobContext, "owner" | "leaseMs" | "heartbeatMs" | "log">, options: { concurrency?: number; pollMs?: number } = {}) {
  const concurrency = options.concurrency ?? 2;
  const pollMs = options.pollMs ?? 250;
  const inFlight = new Map<string, Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  let again = false;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    if (ticking) {
      again = true;
      return;
    }
    ticking = true;
    clearTimeout(timer);
    try {
      if (inFlight.size < concurrency) {
        for (const pending of await listPendingWebhookDeliveries(concurrency * 2)) {
          if (inFlight.size >= concurrency || stopped) break;
          if (inFlight.has(pending.deliveryId)) continue;
          const run = handle({ deliveryId: pending.deliveryId }, ctx)
            .catch((error) => ctx.log.error("webhook job crashed", { deliveryId: pending.deliveryId, error: (error as Error).message }))
            .finally(() => {
              inFlight.delete(pending.deliveryId);
              wake();
            });
          inFlight.set(pending.deliveryId, run);
        }
      }
    } catch (error) {
      ctx.log.error("webhook poll failed", { error: (error as Error).message });
    } finally {
      ticking = false;
      if (!stopped) timer = setTimeout(tick, again ? 0 : pollMs);
      again = false;
    }
  };
  const wake = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, 0);
  };
  localPollers.add(wake);
  wake();
  return {
    wake,
    async stop() {
      stopped = true;
      localPollers.delete(wake);
      clearTimeout(timer);
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}

/** BullMQ sweeper: deliveries stored with no job (Redis was down, the web process died) or whose runner died get one. */
export async function sweepDeliveries(add: (deliveryId: string, attempts: number) => Promise<void>, staleMs: number): Promise<number> {
  const stale = Date.now() - staleMs;
  let queued = 0;
  for (const pending of await listPendingWebhookDeliveries(200)) {
    if (pending.receivedAt.getTime() >= stale && pending.attempts === 0) continue;
    await add(pending.deliveryId, pending.attempts);
    queued++;
  }
  return queued;
}
