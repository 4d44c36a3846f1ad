// The PR bot end to end: a pull_request webhook accepted -> the "Poolguard" check run
// completed, for a pull request touching 20 files of a generated 100,000-line Python
// repository, against the fake GitHub on loopback (real HTTP, real git objects).
//
//   npx tsx bench/pr-bot.ts [--lines 100000] [--files 20] [--runs 3] [--pauses github|none]
//                           [--base stored|scanned] [--trace]
//
// The webhook goes the production way: the route records the delivery and its payload,
// the database transport's job runner (started in this process, as `npm run worker`
// would) picks it up and reviews the pull request.
// --pauses github (default) keeps the GitHub client's write pacing (1 s between writes,
// 3 s before a review, as GitHub recommends); --pauses none measures Poolguard's own work.
// --base stored (default): the repository is connected and its default branch was
// scanned at the merge base (the usual case: every push to it is scanned), so the review
// uses the stored findings; --base scanned: nothing stored, the review scans the base too.
// Prints the webhook answer time, the end-to-end time and the review's own timings per run.
// biome-ignore-all lint/suspicious/noExplicitAny: webhook payload templates are patched field by field
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { applyMigrations } from "../scripts/lib/migrations.mjs";
import { createGitHubClient } from "../lib/github/index.ts";
import { deliverWebhook, startFakeGitHub, webhookExample } from "../tests/support/fake-github/index.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const totalLines = Number(option("lines", "100000"));
const touched = Number(option("files", "20"));
const runs = Number(option("runs", "3"));
const pauses = option("pauses", "github");
const baseMode = option("base", "stored");

const dbDir = mkdtempSync(join(tmpdir(), "poolguard-bench-bot-"));
process.env.DATABASE_URL = `file:${join(dbDir, "bench.db")}`;
await applyMigrations(process.env.DATABASE_URL);
const { configureBot } = await import("../lib/github-bot/context.ts");
const { receiveWebhook } = await import("../lib/github-bot/webhook.ts");
delete process.env.REDIS_URL;
const db = await import("../lib/db/index.ts");
const bot = await import("../lib/db/github-bot.ts");
const { startRunner } = await import("../lib/jobs/index.ts");
const { scan } = await import("../lib/analyzer/index.ts");

// A repository of small modules: each has a few functions that use sessions properly.
const linesPerFile = 200;
const fileCount = Math.ceil(totalLines / linesPerFile);
function module(i: number): string {
  const lines = ["from app.db import SessionLocal", ""];
  let f = 0;
  while (lines.length < linesPerFile - 6) {
    lines.push("", `def task_${i}_${f}(value):`, "    with SessionLocal() as session:", `        session.execute("SELECT ${f}")`, "        return value + 1");
    f++;
  }
  while (lines.length < linesPerFile) lines.push("# padding");
  return `${lines.join("\n")}\n`;
}
const files: Record<string, string> = { "app/db.py": 'from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n\nengine = create_engine("sqlite://")\nSessionLocal = sessionmaker(bind=engine)\n' };
for (let i = 0; i < fileCount; i++) files[`app/pkg${i % 25}/mod_${i}.py`] = module(i);
const lineCount = Object.values(files).reduce((n, t) => n + t.split("\n").length - 1, 0);

const fake = await startFakeGitHub();
fake.createRepository({ owner: "acme", name: "big", files });
const installationId = fake.createInstallation("acme", ["acme/big"]);
const client = createGitHubClient({
  auth: { type: "app", appId: fake.app.id, privateKey: fake.app.privateKey },
  apiUrl: fake.apiUrl,
  ...(pauses === "none" ? { writePauseMs: 0, notificationPauseMs: 0 } : {}),
});
const installationClient = client.forInstallation(installationId);
// --trace: every GitHub call the bot makes, with its time (to tell GitHub's share from Poolguard's).
if (args.includes("--trace")) {
  installationClient.octokit.hook.wrap("request", async (request, options) => {
    const t = performance.now();
    try {
      return await request(options);
    } finally {
      console.log(`    ${options.method} ${String(options.url)} ${(performance.now() - t).toFixed(0)} ms`);
    }
  });
}
const dev = createGitHubClient({ auth: { type: "token", token: fake.personalAccessToken("dev") }, apiUrl: fake.apiUrl, writePauseMs: 0, notificationPauseMs: 0 });
const secret = randomBytes(20).toString("hex");
let lastTimings: Record<string, unknown> = {};
configureBot({
  clientFor: (id) => (id === installationId ? installationClient : client.forInstallation(id)),
  env: { GITHUB_WEBHOOK_SECRET: secret },
  log: {
    info(message, data) {
      if (message === "pull request reviewed") lastTimings = data ?? {};
    },
    error(message, data) {
      console.error(message, data);
    },
  },
});

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(key, value);
  const response = await receiveWebhook(new Request(`http://127.0.0.1${req.url}`, { method: "POST", headers, body: Buffer.concat(chunks) }));
  res.writeHead(response.status, { "content-type": "application/json" }).end(await response.text());
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
const template = webhookExample<Record<string, any>>("check-run-requested-action");
const { data: repoData } = await dev.octokit.rest.repos.get({ owner: "acme", repo: "big" });
const repository = { ...template.repository, id: repoData.id, name: "big", full_name: "acme/big", owner: { ...template.repository.owner, login: "acme" }, default_branch: "main", has_discussions: false, topics: [], visibility: "private" };

if (baseMode === "stored") {
  // Connected repository whose default branch was scanned at its head (what the push scan stores).
  await bot.syncInstallation({ githubId: installationId, accountLogin: "acme", accountType: "Organization" });
  await bot.syncInstallationRepositories(installationId, [{ githubId: repoData.id, fullName: "acme/big", private: true }]);
  const connected = await bot.findGitHubRepository({ githubId: repoData.id, fullName: "acme/big" });
  if (!connected) throw new Error("the repository was not registered");
  const root = mkdtempSync(join(tmpdir(), "poolguard-bench-main-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const main = fake.branchSha("acme/big", "main") as string;
  const t = performance.now();
  const result = await scan({ root });
  const stored = await db.createScan({ repositoryId: connected.id, trigger: "push", branch: "main", commitSha: main });
  await db.completeScan(stored.id, result, { commitSha: main });
  rmSync(root, { recursive: true, force: true });
  console.log(`default branch scanned and stored at ${main.slice(0, 7)} (${result.findings.length} findings, ${((performance.now() - t) / 1000).toFixed(1)} s; not part of the measurement)`);
}
const runner = await startRunner({ log: { info() {}, error: (m, d) => console.error(m, d) } });

console.log(`repository: ${Object.keys(files).length} files, ${lineCount} lines; pull request touches ${touched} files; write pacing: ${pauses}; merge base findings: ${baseMode}`);
const results: { answerMs: number; totalMs: number; findings: number; conclusion: string | null }[] = [];
for (let run = 0; run < runs; run++) {
  const branch = `change-${run}`;
  const main = fake.branchSha("acme/big", "main") as string;
  fake.repos.get("acme/big")?.git.setRef(`refs/heads/${branch}`, main);
  const changes: Record<string, string> = {};
  for (let k = 0; k < touched; k++) {
    const path = `app/pkg${k % 25}/mod_${k * 7 + run}.py`;
    // One new leak per touched file (a safe fix, inside the diff) plus an edit elsewhere.
    changes[path] = `${files[path]}\n\ndef leaky_${run}_${k}():\n    session = SessionLocal()\n    session.execute("SELECT 1")\n    session.commit()\n`;
  }
  fake.commitFiles("acme/big", branch, changes, { message: "change", author: { name: "dev", email: "dev@x.test" } });
  const { data: pr } = await dev.octokit.rest.pulls.create({ owner: "acme", repo: "big", title: `Change ${run}`, head: branch, base: "main" });
  const { data: full } = await dev.octokit.rest.pulls.get({ owner: "acme", repo: "big", pull_number: pr.number });
  const pull = structuredClone(full) as Record<string, any>;
  for (const end of [pull.head, pull.base]) if (end.repo) end.repo.has_discussions = false;
  const payload = { action: "opened", number: pr.number, pull_request: pull, repository, sender: template.sender, installation: { id: installationId, node_id: "I" } };
  const started = performance.now();
  const answer = await deliverWebhook({ url, secret, event: "pull_request", webhook: "pull-request-opened", payload });
  const answerMs = performance.now() - started;
  if (answer.status !== 202) throw new Error(`webhook answered ${answer.status}: ${answer.body}`);
  let completed: { conclusion: string | null; completedAt: string | null } | undefined;
  while (!completed) {
    completed = fake.repos.get("acme/big")?.checkRuns.find((r) => r.headSha === full.head.sha && r.status === "completed");
    if (!completed) await new Promise((r) => setTimeout(r, 5));
  }
  const totalMs = performance.now() - started;
  await waitForDeliveries();
  const comments = fake.repos.get("acme/big")?.reviewComments.filter((c) => c.pull === pr.number).length ?? 0;
  results.push({ answerMs, totalMs, findings: comments, conclusion: completed.conclusion });
  const { owner: _o, repo: _r, number: _n, headSha: _h, ...timings } = lastTimings;
  console.log(`  review timings: ${JSON.stringify(timings)}`);
  console.log(`run ${run + 1}: webhook answered in ${answerMs.toFixed(1)} ms; check run completed (${completed.conclusion}) ${(totalMs / 1000).toFixed(2)} s after the webhook; ${comments} suggestions posted`);
}
async function waitForDeliveries() {
  while ((await db.countWebhookDeliveries({ status: "received" })) > 0) await new Promise((r) => setTimeout(r, 20));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(`median: webhook ${median(results.map((r) => r.answerMs)).toFixed(1)} ms, end to end ${(median(results.map((r) => r.totalMs)) / 1000).toFixed(2)} s`);
server.close();
await runner.stop();
await db.disconnectDatabase();
await fake.stop();
rmSync(dbDir, { recursive: true, force: true });
process.exit(0);
