// Signed GitHub webhook deliveries at a steady rate against a running Poolguard: each
// delivery is a `push` to the default branch of a repository (spread over several App
// installations), signed with the webhook secret like GitHub does; some deliveries are
// sent a second time with the same X-GitHub-Delivery id, as GitHub's redelivery does.
import { randomUUID } from "node:crypto";
import { signatureFor } from "../../../lib/github-bot/signature.ts";

export type DeliveryResult = { deliveryId: string; redelivery: boolean; status: number; ms: number; body: string };

export type LoadReport = {
  sent: number;
  deliveries: number;
  redeliveries: number;
  seconds: number;
  statuses: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  results: DeliveryResult[];
};

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function pushPayload(i: number, installations: number) {
  const repo = `load-${i % 40}`;
  return {
    ref: "refs/heads/main",
    before: "0".repeat(40),
    after: randomUUID().replaceAll("-", "").padEnd(40, "0").slice(0, 40),
    deleted: false,
    repository: { id: 900_000 + (i % 40), name: repo, full_name: `load-test/${repo}`, default_branch: "main", owner: { login: "load-test" } },
    installation: { id: 70_000 + (i % installations) },
    sender: { login: "load-test" },
  };
}

export async function sendWebhooks(options: {
  url: string;
  secret: string;
  count: number;
  durationMs: number;
  installations?: number;
  /** Every Nth delivery is sent again later with the same delivery id (0: none). */
  redeliverEvery?: number;
}): Promise<LoadReport> {
  const installations = options.installations ?? 25;
  const redeliverEvery = options.redeliverEvery ?? 0;
  const sent: { deliveryId: string; body: string }[] = [];
  const results: DeliveryResult[] = [];
  const post = async (deliveryId: string, body: string, redelivery: boolean) => {
    const started = performance.now();
    try {
      const response = await fetch(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/load",
          "x-github-event": "push",
          "x-github-delivery": deliveryId,
          "x-hub-signature-256": signatureFor(options.secret, body),
        },
        body,
      });
      const text = await response.text();
      results.push({ deliveryId, redelivery, status: response.status, ms: performance.now() - started, body: text });
    } catch (error) {
      results.push({ deliveryId, redelivery, status: 0, ms: performance.now() - started, body: (error as Error).message });
    }
  };
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
  };
  const start = performance.now();
  const gap = options.durationMs / options.count;
  for (let i = 0; i < options.count; i++) {
    const due = start + i * gap;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const deliveryId = randomUUID();
    const body = JSON.stringify(pushPayload(i, installations));
    sent.push({ deliveryId, body });
    track(post(deliveryId, body, false));
    // A redelivery of an earlier delivery, after its first answer had time to come back.
    if (redeliverEvery > 0 && i % redeliverEvery === redeliverEvery - 1 && i >= 10) {
      const earlier = sent[i - 10];
      track(post(earlier.deliveryId, earlier.body, true));
    }
  }
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  const seconds = (performance.now() - start) / 1000;
  const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    sent: results.length,
    deliveries: options.count,
    redeliveries: results.filter((r) => r.redelivery).length,
    seconds: round(seconds),
    statuses,
    latencyMs: { p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? 0) },
    results,
  };
}
