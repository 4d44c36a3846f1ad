// Webhook deliveries for tests, from GitHub's official webhook description
// (@octokit/openapi-webhooks): its examples, its payload schemas, and signatures made
// the way GitHub makes them (X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256 of the body).
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type Schema, validate } from "./openapi.ts";

type WebhookSpec = {
  webhooks: Record<string, { post: { requestBody: { content: { "application/json": { schema: Schema } } } } }>;
  components: { examples: Record<string, { value: unknown }>; schemas: Record<string, Schema> };
};

let cached: WebhookSpec | null = null;

export function webhookSpec(): WebhookSpec {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("@octokit/openapi-webhooks/package.json"));
  cached = JSON.parse(readFileSync(join(root, "generated", "api.github.com.json"), "utf8")) as WebhookSpec;
  return cached;
}

/** Names of the official examples (e.g. "check-run-requested-action", "ping"). */
export function webhookExampleNames(): string[] {
  return Object.keys(webhookSpec().components.examples);
}

/** A deep copy of an official example payload. */
export function webhookExample<T = Record<string, unknown>>(name: string): T {
  const found = webhookSpec().components.examples[name];
  if (!found) throw new Error(`no webhook example named ${name}; have: ${webhookExampleNames().join(", ")}`);
  return structuredClone(found.value) as T;
}

/** Problems with a payload for a webhook ("pull-request-opened", "push", "check-run-completed", ...). */
export function validateWebhookPayload(webhook: string, payload: unknown): string[] {
  const spec = webhookSpec();
  const entry = spec.webhooks[webhook];
  if (!entry) return [`no webhook named ${webhook} in GitHub's webhook description`];
  return validate(entry.post.requestBody.content["application/json"].schema, payload, "$", 0, spec).map((p) => `${webhook}: ${p}`);
}

export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * POST a delivery as GitHub does. Pass `deliveryId` to imitate a redelivery (GitHub reuses the id).
 * The payload is checked against the webhook's schema first; a mismatch throws.
 */
export async function deliverWebhook(input: { url: string; secret: string; event: string; webhook: string; payload: unknown; deliveryId?: string }): Promise<{ status: number; deliveryId: string; body: string }> {
  const problems = validateWebhookPayload(input.webhook, input.payload);
  if (problems.length > 0) throw new Error(`webhook payload does not match GitHub's description:\n${problems.join("\n")}`);
  const body = JSON.stringify(input.payload);
  const deliveryId = input.deliveryId ?? randomUUID();
  const response = await fetch(input.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/fake",
      "x-github-event": input.event,
      "x-github-delivery": deliveryId,
      "x-github-hook-id": "1",
      "x-hub-signature-256": signWebhookBody(input.secret, body),
    },
    body,
  });
  return { status: response.status, deliveryId, body: await response.text() };
}
