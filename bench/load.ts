// Webhook load on the running app: `npm run bench:load -- [--count 1000] [--seconds 60] [--database-url URL]`
//
// Starts Poolguard as users do (`node scripts/start.mjs`: build when needed, migrate, web
// server and one worker) on 127.0.0.1 with a fresh SQLite database (or --database-url,
// an empty PostgreSQL database), sends COUNT signed GitHub `push` deliveries evenly over
// SECONDS (plus one redelivery of every 20th, as GitHub's redeliver does), then waits
// until every delivery is processed. Prints the answer latency (p50/p95/p99/max), the
// statuses, the time until the last delivery was processed, and checks that each
// delivery was recorded and processed exactly once.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp } from "../tests/integration/hardening/app.ts";
import { sendWebhooks } from "../tests/integration/hardening/webhook-load.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const count = Number(option("count", "1000"));
const seconds = Number(option("seconds", "60"));
const scratch = mkdtempSync(join(tmpdir(), "poolguard-bench-load-"));
const databaseUrl = option("database-url", `file:${join(scratch, "load.db")}`);
const secret = randomBytes(32).toString("hex");

process.env.DATABASE_URL = databaseUrl;
const app = await startApp({
  HOST: "127.0.0.1",
  DATABASE_URL: databaseUrl,
  REDIS_URL: undefined,
  GITHUB_WEBHOOK_SECRET: secret,
  POOLGUARD_ADMIN_PASSWORD: randomBytes(12).toString("hex"),
  GITHUB_API_URL: "http://127.0.0.1:9/api/v3",
});
const { db, disconnectDatabase } = await import("../lib/db/client.ts");
let exitCode = 0;
/** Deliveries among `ids` (in chunks: SQLite takes at most 999 parameters a query), optionally with a status. */
async function countDeliveries(ids: string[], status?: string): Promise<number> {
  let total = 0;
  for (let i = 0; i < ids.length; i += 500) {
    total += await db().webhookDelivery.count({ where: { deliveryId: { in: ids.slice(i, i + 500) }, ...(status ? { status } : {}) } });
  }
  return total;
}
try {
  const started = performance.now();
  const report = await sendWebhooks({ url: `${app.baseUrl}/api/github/webhooks`, secret, count, durationMs: seconds * 1000, redeliverEvery: 20 });
  const ids = [...new Set(report.results.filter((r) => !r.redelivery).map((r) => r.deliveryId))];
  const deadline = Date.now() + 300_000;
  let processed = 0;
  while (Date.now() < deadline) {
    processed = await countDeliveries(ids, "processed");
    if (processed === ids.length) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const allProcessedSeconds = (performance.now() - started) / 1000;
  const recorded = await countDeliveries(ids);
  const accepted = new Map<string, number>();
  for (const r of report.results) if (r.status === 202) accepted.set(r.deliveryId, (accepted.get(r.deliveryId) ?? 0) + 1);
  const acceptedTwice = [...accepted.values()].filter((n) => n > 1).length;
  const lost = ids.length - processed;
  const provider = databaseUrl.startsWith("file:") ? "sqlite" : "postgresql";
  console.log(`webhook load on ${provider}: ${count} deliveries (+${report.redeliveries} redeliveries) over ${report.seconds} s`);
  console.log(`  statuses       ${JSON.stringify(report.statuses)}`);
  console.log(`  answer latency p50 ${report.latencyMs.p50} ms, p95 ${report.latencyMs.p95} ms, p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`);
  console.log(`  recorded       ${recorded} of ${ids.length} (accepted twice: ${acceptedTwice})`);
  console.log(`  processed      ${processed} of ${ids.length}, the last ${allProcessedSeconds.toFixed(1)} s after the first was sent (lost: ${lost})`);
  if (lost > 0 || acceptedTwice > 0 || recorded !== ids.length) exitCode = 1;
} finally {
  await disconnectDatabase();
  await app.stop();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
