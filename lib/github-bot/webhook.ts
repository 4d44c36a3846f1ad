import { recordWebhookDelivery } from "../db/webhook-deliveries.ts";
import { currentRequestId, requestIdFrom } from "../log.ts";
import * as job from "../jobs/process-github-webhook.ts";
import { botContext, webhookSecret } from "./context.ts";
import { verifySignature } from "./signature.ts";

// POST /api/github/webhooks. Order matters: the signature over the raw bytes is checked
// before anything else (nothing is parsed, recorded or queued for a bad one); the
// delivery is recorded once with its payload (a redelivery is answered 200 and not
// processed again); a job runner is told, and the answer goes back at once. The work
// itself runs in the job runners (`npm run worker`), so a restart loses nothing.

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export async function receiveWebhook(request: Request): Promise<Response> {
  const raw = new Uint8Array(await request.arrayBuffer());
  const secret = webhookSecret();
  if (!secret) return json(503, { error: "GITHUB_WEBHOOK_SECRET is not set on this server" });
  if (!verifySignature(secret, raw, request.headers.get("x-hub-signature-256"))) return json(401, { error: "bad or missing X-Hub-Signature-256" });
  const event = request.headers.get("x-github-event");
  const deliveryId = request.headers.get("x-github-delivery");
  if (!event || !deliveryId) return json(400, { error: "X-GitHub-Event and X-GitHub-Delivery are required" });
  const text = Buffer.from(raw).toString("utf8");
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(text);
  } catch {
    return json(400, { error: "the body is not JSON" });
  }
  if (event === "ping") return json(200, { ok: true, event });
  const installationId = (payload.installation as { id?: number } | undefined)?.id ?? null;
  const action = typeof payload.action === "string" ? payload.action : null;
  // The request id goes with the delivery, so the worker's lines for it carry it too.
  const requestId = currentRequestId() ?? requestIdFrom(request.headers.get("x-request-id"));
  const { duplicate } = await recordWebhookDelivery({ deliveryId, event, action, installationId, payload: text, requestId });
  if (duplicate) return json(200, { ok: true, duplicate: true });
  await job.enqueueDelivery(deliveryId, botContext().log);
  return json(202, { ok: true, queued: job.name });
}
