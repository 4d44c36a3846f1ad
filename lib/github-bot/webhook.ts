import { recordWebhookDelivery } from "../db/index.ts";
import * as job from "../jobs/process-github-webhook.ts";
import { webhookSecret } from "./context.ts";
import { enqueue } from "./queue.ts";
import { verifySignature } from "./signature.ts";

// POST /api/github/webhooks. Order matters: the signature over the raw bytes is checked
// before anything else (nothing is parsed, recorded or queued for a bad one); the
// delivery id is recorded once (a redelivery is answered 200 and not processed again);
// the work is queued and the answer goes back at once.

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
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(Buffer.from(raw).toString("utf8"));
  } catch {
    return json(400, { error: "the body is not JSON" });
  }
  if (event === "ping") return json(200, { ok: true, event });
  const installationId = (payload.installation as { id?: number } | undefined)?.id ?? null;
  const { duplicate } = await recordWebhookDelivery({ deliveryId, event, action: typeof payload.action === "string" ? payload.action : null, installationId });
  if (duplicate) return json(200, { ok: true, duplicate: true });
  enqueue(() => job.handle({ deliveryId, event, payload }));
  return json(202, { ok: true, queued: job.name });
}
