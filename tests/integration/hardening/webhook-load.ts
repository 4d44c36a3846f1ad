// Signed GitHub webhook deliveries at a steady rate against a running Poolguard: each
// delivery is a `push` to the default branch of a repository (spread over several App
// installations), signed with the webhook secret like GitHub does; some deliveries are
// sent a second time with the same X-GitHub-Delivery id, as GitHub's redelivery does.
import { randomUUID } from "node:crypto";
import { signatureFor } from "../../../lib/github-bot/signature.ts";

export type DeliveryResult = {
  deliveryId: string;
  redelivery: boolean;
  status: number;
  ms: number;
  body: string;
  /** A re-send (same delivery id) of an attempt that got no 2xx answer (with `resendFailed`). */
  retry?: boolean;
};

export type LoadReport = {
  sent: number;
  deliveries: number;
  redeliveries: number;
  seconds: number;
  statuses: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  results: DeliveryResult[];
};

/** What the load is doing right now, for fault events that pick their moment. */
export type LoadState = {
  /** Requests sent and not answered yet. */
  awaiting: () => number;
  /** Delivery ids sent so far (first sends), in order. */
  sentIds: () => string[];
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
  /**
   * Send again, with the same delivery id, every attempt that got a connection error or a
   * non-2xx answer (a redelivery, as from GitHub's settings or API), every `resendAfterMs`,
   * until it gets a 2xx or `resendForMs` has passed since the first try.
   */
  resendFailed?: boolean;
  resendAfterMs?: number;
  resendForMs?: number;
  /** Run `run` (without holding the sending back) once delivery number `atIndex` has been sent; a failure is thrown once every request has ended. */
  events?: { atIndex: number; run: (load: LoadState) => Promise<void> }[];
  /** Delivery number i as another event than a push (its X-GitHub-Event and body), or null for the usual push. */
  deliveryFor?: (i: number) => { event: string; body: string } | null;
}): Promise<LoadReport> {
  const installations = options.installations ?? 25;
  const redeliverEvery = options.redeliverEvery ?? 0;
  const sent: { deliveryId: string; body: string; event: string }[] = [];
  let awaiting = 0;
  const state: LoadState = { awaiting: () => awaiting, sentIds: () => sent.map((s) => s.deliveryId) };
  const results: DeliveryResult[] = [];
  const resendAfterMs = options.resendAfterMs ?? 1000;
  const resendForMs = options.resendForMs ?? 180_000;
  const post = async (deliveryId: string, body: string, event: string, redelivery: boolean) => {
    const first = performance.now();
    let retry = false;
    for (;;) {
      const status = await attempt(deliveryId, body, event, redelivery || retry, retry);
      if (!options.resendFailed || (status >= 200 && status < 300)) return;
      if (performance.now() - first > resendForMs) return;
      await new Promise((r) => setTimeout(r, resendAfterMs));
      retry = true;
    }
  };
  const attempt = async (deliveryId: string, body: string, event: string, redelivery: boolean, retry: boolean): Promise<number> => {
    const started = performance.now();
    const extra = retry ? { retry: true } : {};
    awaiting++;
    try {
      const response = await fetch(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/load",
          "x-github-event": event,
          "x-github-delivery": deliveryId,
          "x-hub-signature-256": signatureFor(options.secret, body),
        },
        body,
      });
      const text = await response.text();
      results.push({ deliveryId, redelivery, status: response.status, ms: performance.now() - started, body: text, ...extra });
      return response.status;
    } catch (error) {
      results.push({ deliveryId, redelivery, status: 0, ms: performance.now() - started, body: (error as Error).message, ...extra });
      return 0;
    } finally {
      awaiting--;
    }
  };
  const inFlight = new Set<Promise<void>>();
  const eventFailures: unknown[] = [];
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
    const other = options.deliveryFor?.(i) ?? null;
    const body = other?.body ?? JSON.stringify(pushPayload(i, installations));
    const event = other?.event ?? "push";
    sent.push({ deliveryId, body, event });
    track(post(deliveryId, body, event, false));
    // A redelivery of an earlier delivery, after its first answer had time to come back.
    if (redeliverEvery > 0 && i % redeliverEvery === redeliverEvery - 1 && i >= 10) {
      const earlier = sent[i - 10];
      track(post(earlier.deliveryId, earlier.body, earlier.event, true));
    }
    for (const event of options.events ?? []) {
      if (event.atIndex === i) {
        track(
          event.run(state).catch((error) => {
            eventFailures.push(error);
          }),
        );
      }
    }
  }
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  if (eventFailures.length > 0) throw eventFailures[0];
  const seconds = (performance.now() - start) / 1000;
  const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    sent: results.length,
    deliveries: options.count,
    redeliveries: results.filter((r) => r.redelivery && !r.retry).length,
    seconds: round(seconds),
    statuses,
    latencyMs: { p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? 0) },
    results,
  };
}
