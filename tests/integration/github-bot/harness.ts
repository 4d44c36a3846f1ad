// Shared set-up for the PR bot's tests: the fake GitHub (real HTTP), a GitHub App
// installation on acme/shop, the webhook route served over real HTTP on 127.0.0.1,
// a fresh database, the database transport's webhook loop in this process (unless
// `runner: false`: then tests start worker processes), and webhook payloads built from GitHub's official webhook
// description (@octokit/openapi-webhooks): its check-run examples are the templates,
// and every payload is validated against the webhook's schema before it is sent.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createGitHubClient, type GitHubClient } from "../../../lib/github/index.ts";
import { configureBot } from "../../../lib/github-bot/context.ts";
import { receiveWebhook } from "../../../lib/github-bot/webhook.ts";
import { deliverWebhook, type FakeGitHub, startFakeGitHub, webhookExample } from "../../support/fake-github/index.ts";
import { useFreshDatabase } from "../db/fresh-database.ts";
import { countWebhookDeliveries } from "../../../lib/db/webhook-deliveries.ts";
import { startDeliveryPoller } from "../../../lib/jobs/process-github-webhook.ts";

// biome-ignore lint/suspicious/noExplicitAny: webhook payloads are read field by field, each where it is used
export type Payload = Record<string, any>;

export type BotHarness = {
  fake: FakeGitHub;
  secret: string;
  url: string;
  installationId: number;
  /** Acting as a developer (pushes, opens pull requests). */
  dev: GitHubClient;
  app: GitHubClient;
  deliver(event: string, webhook: string, payload: unknown, deliveryId?: string): Promise<{ status: number; deliveryId: string; body: string }>;
  /** Wait until every recorded delivery has been processed (or failed). */
  settle(): Promise<void>;
  repositoryPayload(fullName?: string): Promise<Payload>;
  installationPayload(): Promise<Payload>;
  pullRequestPayload(action: string, number: number): Promise<Payload>;
  checkRunPayload(action: "rerequested" | "requested_action", run: { id: number; head_sha: string; number: number }): Promise<Payload>;
  openPullRequest(branch: string, files: Record<string, string | null>, title?: string): Promise<number>;
  push(branch: string, files: Record<string, string | null>): string;
  cleanup(): Promise<void>;
};

export async function botHarness(input: { files: Record<string, string>; owner?: string; name?: string; runner?: boolean }): Promise<BotHarness> {
  // Webhook work goes through the database transport here; the BullMQ path has its own test.
  const redisUrl = process.env.REDIS_URL;
  delete process.env.REDIS_URL;
  const owner = input.owner ?? "acme";
  const name = input.name ?? "shop";
  const fullName = `${owner}/${name}`;
  const fake = await startFakeGitHub();
  fake.createRepository({ owner, name, files: input.files });
  const installationId = fake.createInstallation(owner, [fullName]);
  const secret = randomBytes(20).toString("hex");
  const fast = { apiUrl: fake.apiUrl, writePauseMs: 2, notificationPauseMs: 2, retryBaseMs: 10 };
  const root = createGitHubClient({ auth: { type: "app", appId: fake.app.id, privateKey: fake.app.privateKey }, ...fast });
  const app = root.forInstallation(installationId);
  const dev = createGitHubClient({ auth: { type: "token", token: fake.personalAccessToken("dev") }, ...fast });
  const database = await useFreshDatabase();
  const quiet = { info() {}, error() {} };
  configureBot({ clientFor: (id) => root.forInstallation(id), env: { GITHUB_WEBHOOK_SECRET: secret }, log: quiet, baseUrl: "https://poolguard.test" });
  const deliveries = input.runner === false ? null : startDeliveryPoller({ owner: "test-runner", leaseMs: 30_000, heartbeatMs: 10_000, log: quiet }, { pollMs: 100 });
  const settle = async () => {
    const deadline = Date.now() + 120_000;
    while ((await countWebhookDeliveries({ status: "received" })) > 0) {
      if (Date.now() > deadline) throw new Error("webhook deliveries were still waiting after 120 s");
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(key, value);
    const response = await receiveWebhook(new Request(`http://127.0.0.1${req.url}`, { method: "POST", headers, body: Buffer.concat(chunks) }));
    res.writeHead(response.status, { "content-type": "application/json" }).end(await response.text());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
  const template = webhookExample<Payload>("check-run-requested-action");
  const sender = template.sender;

  async function repositoryPayload(): Promise<Payload> {
    const { data } = await dev.octokit.rest.repos.get({ owner, repo: name });
    // The webhook's repository shape is the check-run example's, with our repository's identity.
    return { ...template.repository, id: data.id, node_id: data.node_id, name, full_name: fullName, private: data.private, owner: { ...template.repository.owner, login: owner }, default_branch: data.default_branch, html_url: data.html_url, url: data.url, has_discussions: false, topics: [], visibility: "private" };
  }
  async function installationPayload(): Promise<Payload> {
    const jwtClient = createGitHubClient({ auth: { type: "app", appId: fake.app.id, privateKey: fake.app.privateKey }, ...fast });
    const { data } = await jwtClient.octokit.rest.apps.listInstallations();
    const found = data.find((i) => i.id === installationId);
    if (!found) throw new Error(`the fake has no installation ${installationId}`);
    return found as Payload;
  }
  const ref = { id: installationId, node_id: Buffer.from(`I_${installationId}`).toString("base64") };

  return {
    fake,
    secret,
    url,
    installationId,
    dev,
    app,
    deliver: (event, webhook, payload, deliveryId) => deliverWebhook({ url, secret, event, webhook, payload, deliveryId }),
    settle,
    repositoryPayload,
    installationPayload,
    async pullRequestPayload(action, number) {
      const { data } = await dev.octokit.rest.pulls.get({ owner, repo: name, pull_number: number });
      const pull: Payload = structuredClone(data);
      for (const end of [pull.head, pull.base]) if (end.repo) end.repo.has_discussions = false;
      const moved = action === "synchronize" ? { before: data.base.sha, after: data.head.sha } : {};
      return { action, number, ...moved, pull_request: pull, repository: await repositoryPayload(), sender, installation: ref };
    },
    async checkRunPayload(action, run) {
      const payload = webhookExample<Payload>(action === "requested_action" ? "check-run-requested-action" : "check-run-rerequested");
      const { data: pr } = await dev.octokit.rest.pulls.get({ owner, repo: name, pull_number: run.number });
      payload.check_run = {
        ...payload.check_run,
        id: run.id,
        name: "Poolguard",
        head_sha: run.head_sha,
        external_id: `pr-${run.number}`,
        pull_requests: [{ url: pr.url, id: pr.id, number: pr.number, head: { ref: pr.head.ref, sha: pr.head.sha, repo: { id: pr.head.repo?.id ?? 0, url: pr.head.repo?.url ?? "", name } }, base: { ref: pr.base.ref, sha: pr.base.sha, repo: { id: pr.base.repo.id, url: pr.base.repo.url, name } } }],
      };
      if (action === "requested_action") payload.requested_action = { identifier: "poolguard-fix" };
      payload.repository = await repositoryPayload();
      payload.installation = ref;
      return payload;
    },
    async openPullRequest(branch, files, title = "Change things") {
      // The branch starts at the default branch's head, as a developer's would.
      const repository = fake.repos.get(fullName);
      if (!fake.branchSha(fullName, branch)) repository?.git.setRef(`refs/heads/${branch}`, fake.branchSha(fullName, "main") as string);
      fake.commitFiles(fullName, branch, files, { message: title, author: { name: "dev", email: "dev@example.test" } });
      const { data } = await dev.octokit.rest.pulls.create({ owner, repo: name, title, head: branch, base: "main" });
      return data.number;
    },
    push(branch, files) {
      return fake.commitFiles(fullName, branch, files, { message: "More changes", author: { name: "dev", email: "dev@example.test" } });
    },
    async cleanup() {
      if (deliveries) await settle();
      await deliveries?.stop();
      configureBot(null);
      if (redisUrl !== undefined) process.env.REDIS_URL = redisUrl;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const db = await import("../../../lib/db/index.ts");
      await db.disconnectDatabase();
      await database.drop();
      await fake.stop();
    },
  };
}

/** A file where each function leaks one session (a safe fix each). */
export function leakyModule(functions: number, prefix = "job"): string {
  const lines = ["from app.db import SessionLocal", ""];
  for (let i = 0; i < functions; i++) lines.push("", `def ${prefix}_${i}():`, "    session = SessionLocal()", `    session.execute("SELECT ${i}")`, "    session.commit()", "");
  return `${lines.join("\n").trimEnd()}\n`;
}

export const dbModule = 'from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n\nengine = create_engine("sqlite://")\nSessionLocal = sessionmaker(bind=engine)\n';
