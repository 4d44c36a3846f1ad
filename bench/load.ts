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
//              40% of the deliveries are sent (at a moment when requests are waiting for
//              their answer) and start it again at once, SIGKILL the worker at 60% while it
//              holds leased deliveries and start it again; every attempt that got a
//              connection error or a non-2xx answer is sent again with the same
//              X-GitHub-Delivery (a redelivery, as from GitHub's settings or API) until it
//              is accepted. Then every delivery accepted at least once must be recorded once
//              and processed once.
//              So that the worker's kill lands mid-work, the app talks to a fake GitHub
//              (tests/support/fake-github, real HTTP on 127.0.0.1) with one App installation
//              on a Python repository, and every 50th delivery is a `pull_request` opened
//              (a review: download the head, analyse, report a check run). At 60% the fake
//              GitHub holds the next head download (GitHub being slow); once the database
//              shows the worker's lease on that review, the worker is SIGKILLed and the
//              download let go. Each pull request must end with exactly one check run.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGitHubClient } from "../lib/github/client.ts";
import { signatureFor } from "../lib/github-bot/signature.ts";
import { startPostgres } from "../scripts/lib/postgres.mjs";
import { type RunningApp, startApp } from "../tests/integration/hardening/app.ts";
import { type LoadState, sendWebhooks } from "../tests/integration/hardening/webhook-load.ts";
import { type FakeGitHub, startFakeGitHub } from "../tests/support/fake-github/index.ts";
import { leakyRepository } from "../tests/unit/github/setup.ts";

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
const reviewedRepo = { owner: "load-test", name: "reviewed" };
const fake: FakeGitHub | null = kill ? await startFakeGitHub() : null;
let installationId = 0;
if (fake) {
  fake.createRepository({ ...reviewedRepo, files: leakyRepository });
  installationId = fake.createInstallation(reviewedRepo.owner, [`${reviewedRepo.owner}/${reviewedRepo.name}`]);
}
let app: RunningApp;
try {
  app = await startApp(
    {
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      REDIS_URL: undefined,
      GITHUB_WEBHOOK_SECRET: secret,
      POOLGUARD_ADMIN_PASSWORD: randomBytes(12).toString("hex"),
      POOLGUARD_ANALYZER_JOBS: "1",
      ...(fake
        ? { GITHUB_API_URL: fake.apiUrl, GITHUB_APP_ID: String(fake.app.id), GITHUB_APP_PRIVATE_KEY: fake.app.privateKey, GITHUB_TOKEN: undefined }
        : { GITHUB_API_URL: "http://127.0.0.1:9/api/v3" }),
    },
    { separateWorker: kill },
  );
} catch (error) {
  await postgres?.stop();
  await fake?.stop();
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const webhookUrl = `${app.baseUrl}/api/github/webhooks`;
async function deliverOnce(event: string, payload: unknown): Promise<string> {
  const body = JSON.stringify(payload);
  const deliveryId = randomBytes(16).toString("hex");
  const response = await fetch(webhookUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": deliveryId, "x-hub-signature-256": signatureFor(secret, body) },
    body,
  });
  if (response.status !== 202) throw new Error(`${event} delivery answered ${response.status}: ${await response.text()}`);
  return deliveryId;
}
async function waitProcessed(deliveryId: string, ms = 120_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const row = await db().webhookDelivery.findUnique({ where: { deliveryId } });
    if (row?.status === "processed") return;
    if (row?.status === "failed") throw new Error(`delivery ${deliveryId} failed: ${row.error}`);
    await sleep(200);
  }
  throw new Error(`delivery ${deliveryId} was not processed in ${ms / 1000} s`);
}

/** With --kill: the installation is connected (an `installation` delivery, as when the App is installed) and pull requests are opened, one per planned review. */
async function preparePullRequests(github: FakeGitHub): Promise<{ number: number; headSha: string; body: string }[]> {
  const fullName = `${reviewedRepo.owner}/${reviewedRepo.name}`;
  const repo = github.repos.get(fullName);
  if (!repo) throw new Error("the fake GitHub has no repository to review");
  const repository = { id: repo.id, name: reviewedRepo.name, full_name: fullName, private: true, default_branch: "main", owner: { login: reviewedRepo.owner, type: "Organization" } };
  const installation = { id: installationId, account: { login: reviewedRepo.owner, type: "Organization" }, permissions: { checks: "write", contents: "write", pull_requests: "write", metadata: "read" } };
  await waitProcessed(await deliverOnce("installation", { action: "created", installation, repositories: [{ id: repo.id, full_name: fullName, private: true }], sender: { login: reviewedRepo.owner } }));
  const dev = createGitHubClient({ auth: { type: "token", token: github.personalAccessToken("dev") }, apiUrl: github.apiUrl, writePauseMs: 2, notificationPauseMs: 2, retryBaseMs: 10 });
  const pulls: { number: number; headSha: string; body: string }[] = [];
  for (let k = 0; k < Math.ceil(count / 50); k++) {
    const branch = `change-${k}`;
    repo.git.setRef(`refs/heads/${branch}`, github.branchSha(fullName, "main") as string);
    const file = `jobs/change_${k}.py`;
    const source = `from app.db import SessionLocal\n\n\ndef change_${k}():\n    session = SessionLocal()\n    session.execute("SELECT ${k}")\n    session.commit()\n`;
    github.commitFiles(fullName, branch, { [file]: source }, { message: `Change ${k}`, author: { name: "dev", email: "dev@example.test" } });
    const { data } = await dev.octokit.rest.pulls.create({ owner: reviewedRepo.owner, repo: reviewedRepo.name, title: `Change ${k}`, head: branch, base: "main" });
    const pull_request = { number: data.number, draft: false, state: "open", head: { sha: data.head.sha, ref: branch }, base: { sha: data.base.sha, ref: "main" } };
    pulls.push({ number: data.number, headSha: data.head.sha, body: JSON.stringify({ action: "opened", number: data.number, pull_request, repository, installation: { id: installationId }, sender: { login: "dev" } }) });
  }
  return pulls;
}

try {
  const pulls = fake ? await preparePullRequests(fake) : [];
  const started = performance.now();
  const faultLog: string[] = [];
  const at = (label: string) => `${label} at ${((performance.now() - started) / 1000).toFixed(1)} s`;
  const faults = app.faults;
  /** Delivery ids sent before the web server was killed and still waiting for their answer then. */
  let unansweredAtWebKill = 0;
  /** Deliveries the worker held under its lease when it was killed. */
  let leasedAtWorkerKill: string[] = [];
  const events =
    kill && faults && fake
      ? [
          {
            atIndex: Math.floor(count * 0.4),
            run: async (load: LoadState) => {
              // Kill while requests are in the server (some may be recorded and not yet answered).
              const deadline = Date.now() + 5000;
              while (load.awaiting() < 2 && Date.now() < deadline) await sleep(1);
              unansweredAtWebKill = load.awaiting();
              await faults.killWeb();
              faultLog.push(at(`web server SIGKILLed with ${unansweredAtWebKill} requests unanswered`));
              await faults.restartWeb();
              faultLog.push(at("web server answering again"));
            },
          },
          {
            atIndex: Math.floor(count * 0.6),
            run: async () => {
              // GitHub is slow to send the next head: the review waits on it under its lease.
              const hold = fake.holdRequests({ method: "GET", path: /\/tarball\// });
              const deadline = Date.now() + 30_000;
              for (;;) {
                const leased = await db().webhookDelivery.findMany({ where: { status: "received", leaseOwner: { not: null }, leaseExpiresAt: { gt: new Date() } }, select: { deliveryId: true, event: true } });
                if (leased.some((r) => r.event === "pull_request")) {
                  leasedAtWorkerKill = leased.map((r) => r.deliveryId);
                  break;
                }
                if (Date.now() > deadline) {
                  hold.release();
                  throw new Error("no review held a lease within 30 s of the worker's kill point");
                }
                await sleep(20);
              }
              await faults.killWorker();
              faultLog.push(at(`worker SIGKILLed holding ${leasedAtWorkerKill.length} leased deliveries`));
              hold.release();
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
    deliveryFor: (i) => (pulls.length > 0 && i % 50 === 25 ? { event: "pull_request", body: pulls[Math.floor(i / 50)].body } : null),
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
  // The worker writes "webhook processed" just after the row says so: give the last lines a moment to arrive.
  for (let waited = 0; waited < 10_000 && perDelivery("webhook processed").size < ids.length; waited += 250) await new Promise((r) => setTimeout(r, 250));
  const processedLines = perDelivery("webhook processed");
  const processedTwice = [...processedLines.values()].filter((n) => n > 1).length;
  const startedTwice = [...perDelivery("webhook started").values()].filter((n) => n > 1).length;
  console.log(`webhook load on ${provider}: ${count} deliveries (+${report.redeliveries} redeliveries) over ${report.seconds} s${kill ? ", with kills" : ""}`);
  console.log(`  statuses       ${JSON.stringify(report.statuses)}`);
  console.log(`  answer latency p50 ${report.latencyMs.p50} ms, p95 ${report.latencyMs.p95} ms, p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`);
  console.log(`  recorded       ${recorded} of ${ids.length} (accepted twice: ${acceptedTwice})`);
  console.log(`  processed      ${processed} of ${ids.length}, the last ${allProcessedSeconds.toFixed(1)} s after the first was sent (lost: ${lost})`);
  console.log(`  worker log     ${processedLines.size} deliveries logged as processed, ${processedTwice} of them twice; ${startedTwice} started more than once`);
  let checkRunsWrong = 0;
  let leasedNotRetried = 0;
  if (kill && fake) {
    // Each review ends with one completed check run on its head (none duplicated, none left in progress).
    const runs = fake.repos.get(`${reviewedRepo.owner}/${reviewedRepo.name}`)?.checkRuns ?? [];
    const perHead = pulls.map((p) => runs.filter((r) => r.headSha === p.headSha));
    checkRunsWrong = perHead.filter((list) => list.length !== 1 || list[0].status !== "completed").length;
    const rows = await db().webhookDelivery.findMany({ where: { deliveryId: { in: leasedAtWorkerKill } }, select: { attempts: true, status: true } });
    leasedNotRetried = rows.filter((r) => r.attempts < 2 || r.status !== "processed").length;
    // Recorded by the killed server, which died before answering: no attempt was ever answered 202, a re-send was answered "duplicate".
    const answered202 = new Set(report.results.filter((r) => r.status === 202).map((r) => r.deliveryId));
    const recordedUnanswered = sentIds.filter((id) => !answered202.has(id)).length;
    console.log(`  reviews        ${pulls.length} pull requests, ${perHead.filter((l) => l.length === 1 && l[0].status === "completed").length} with exactly one completed check run`);
    console.log(`  web kill       ${unansweredAtWebKill} requests unanswered at the kill; ${recordedUnanswered} deliveries recorded by the killed server without an answer (never answered 202; their re-send answered "duplicate")`);
    console.log(`  worker kill    ${leasedAtWorkerKill.length} deliveries leased at the kill, each taken over and processed (started twice): ${leasedAtWorkerKill.length - leasedNotRetried} of ${leasedAtWorkerKill.length}`);
  }
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
  if (lost > 0 || acceptedTwice > 0 || recorded !== ids.length || processedTwice > 0 || neverAccepted > 0 || checkRunsWrong > 0 || leasedNotRetried > 0) exitCode = 1;
  if (kill && leasedAtWorkerKill.length === 0) exitCode = 1;
} finally {
  await disconnectDatabase();
  await app.stop();
  await fake?.stop().catch((error) => console.error(`fake GitHub: ${(error as Error).message}`));
  await postgres?.stop();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
