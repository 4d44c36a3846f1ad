// Webhook load on the running app:
//   `npm run bench:load -- [--count 1000] [--seconds 60] [--database-url URL | --postgres] [--kill]`
//
// Starts Poolguard as users do (`node scripts/start.mjs`: build when needed, migrate, web
// server and one worker) on 127.0.0.1 with a fresh SQLite database (or --database-url,
// an empty PostgreSQL database), sends COUNT signed GitHub `push` deliveries evenly over
// SECONDS (plus one redelivery of every 20th, as GitHub's redeliver does), then waits
// until every delivery is processed. Prints the answer latency (p50/p95/p99/max), the
// statuses, the time until the last delivery was processed, and checks that each
// delivery was recorded and processed exactly once.
//
// --postgres   start a throwaway PostgreSQL server on 127.0.0.1 for the run (removed after).
// --kill       run the worker as its own process, SIGKILL the web server's processes once
//              40% of the deliveries are sent and start it again at once, SIGKILL the worker
//              at 60% and start it again; every attempt that got a connection error or a
//              non-2xx answer is sent again with the same X-GitHub-Delivery (a redelivery,
//              as from GitHub's settings or API) until it is accepted. Then every delivery
//              accepted at least once must be recorded once and processed once.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "../scripts/lib/postgres.mjs";
import { type RunningApp, startApp } from "../tests/integration/hardening/app.ts";
import { sendWebhooks } from "../tests/integration/hardening/webhook-load.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const count = Number(option("count", "1000"));
const seconds = Number(option("seconds", "60"));
const kill = args.includes("--kill");
const scratch = mkdtempSync(join(tmpdir(), "poolguard-bench-load-"));
const postgres = args.includes("--postgres") ? await startPostgres() : null;
const databaseUrl = postgres?.url ?? option("database-url", `file:${join(scratch, "load.db")}`);
const secret = randomBytes(32).toString("hex");

process.env.DATABASE_URL = databaseUrl;
let app: RunningApp;
try {
  app = await startApp(
    {
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      REDIS_URL: undefined,
      GITHUB_WEBHOOK_SECRET: secret,
      POOLGUARD_ADMIN_PASSWORD: randomBytes(12).toString("hex"),
      GITHUB_API_URL: "http://127.0.0.1:9/api/v3",
    },
    { separateWorker: kill },
  );
} catch (error) {
  await postgres?.stop();
  throw error;
}
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
  const faultLog: string[] = [];
  const at = (label: string) => `${label} at ${((performance.now() - started) / 1000).toFixed(1)} s`;
  const faults = app.faults;
  const events =
    kill && faults
      ? [
          {
            atIndex: Math.floor(count * 0.4),
            run: async () => {
              await faults.killWeb();
              faultLog.push(at("web server SIGKILLed"));
              await faults.restartWeb();
              faultLog.push(at("web server answering again"));
            },
          },
          {
            atIndex: Math.floor(count * 0.6),
            run: async () => {
              await faults.killWorker();
              faultLog.push(at("worker SIGKILLed"));
              await faults.restartWorker();
              faultLog.push(at("worker started again"));
            },
          },
        ]
      : [];
  const report = await sendWebhooks({
    url: `${app.baseUrl}/api/github/webhooks`,
    secret,
    count,
    durationMs: seconds * 1000,
    redeliverEvery: 20,
    resendFailed: kill,
    events,
  });
  const sentIds = [...new Set(report.results.filter((r) => !r.redelivery).map((r) => r.deliveryId))];
  const ok = (status: number) => status >= 200 && status < 300;
  // The deliveries the app accepted (a 2xx) at least once: each must be recorded and processed once.
  const acceptedIds = new Set(report.results.filter((r) => ok(r.status)).map((r) => r.deliveryId));
  const ids = sentIds.filter((id) => acceptedIds.has(id));
  const neverAccepted = sentIds.length - ids.length;
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
  // The worker's log: a delivery with two "webhook processed" lines was worked twice (a
  // line can be missing when its worker was killed before writing it out, never doubled).
  const perDelivery = (message: string) => {
    const seen = new Map<string, number>();
    for (const line of app.lines()) {
      if (line.msg !== message || typeof line.deliveryId !== "string") continue;
      seen.set(line.deliveryId, (seen.get(line.deliveryId) ?? 0) + 1);
    }
    return seen;
  };
  const processedLines = perDelivery("webhook processed");
  const processedTwice = [...processedLines.values()].filter((n) => n > 1).length;
  const startedTwice = [...perDelivery("webhook started").values()].filter((n) => n > 1).length;
  console.log(`webhook load on ${provider}: ${count} deliveries (+${report.redeliveries} redeliveries) over ${report.seconds} s${kill ? ", with kills" : ""}`);
  console.log(`  statuses       ${JSON.stringify(report.statuses)}`);
  console.log(`  answer latency p50 ${report.latencyMs.p50} ms, p95 ${report.latencyMs.p95} ms, p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`);
  console.log(`  recorded       ${recorded} of ${ids.length} (accepted twice: ${acceptedTwice})`);
  console.log(`  processed      ${processed} of ${ids.length}, the last ${allProcessedSeconds.toFixed(1)} s after the first was sent (lost: ${lost})`);
  console.log(`  worker log     ${processedLines.size} deliveries logged as processed, ${processedTwice} of them twice; ${startedTwice} started more than once`);
  if (kill) {
    const failed = report.results.filter((r) => !ok(r.status));
    const retries = report.results.filter((r) => r.retry);
    for (const line of faultLog) console.log(`  fault          ${line}`);
    console.log(`  sent           ${sentIds.length} deliveries, ${report.sent} requests in all`);
    console.log(`  refused        ${failed.length} requests got no 2xx (${new Set(failed.map((r) => r.deliveryId)).size} deliveries; ${failed.filter((r) => r.status === 0).length} connection errors)`);
    console.log(`  redelivered    ${retries.length} re-sends of ${new Set(retries.map((r) => r.deliveryId)).size} deliveries (${retries.filter((r) => ok(r.status)).length} accepted)`);
    console.log(`  never accepted ${neverAccepted} (given up after the re-send limit)`);
    console.log(`  lost           ${lost} of ${ids.length} accepted deliveries not processed`);
    console.log(`  duplicated     ${acceptedTwice} accepted (202) twice, ${processedTwice} processed twice`);
  }
  if (lost > 0 || acceptedTwice > 0 || recorded !== ids.length || processedTwice > 0 || neverAccepted > 0) exitCode = 1;
} finally {
  await disconnectDatabase();
  await app.stop();
  await postgres?.stop();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
