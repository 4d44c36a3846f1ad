import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createGitHubClient, githubAuthFromEnv, GitHubConfigError } from "../../../lib/github/client.ts";
import { ensureFixPullRequests } from "../../../lib/github/fix-pull-requests.ts";
import { redact, registerSecret } from "../../../lib/github/redact.ts";
import { downloadSnapshotIntoMemory } from "../../../lib/github/snapshot.ts";
import { type FakeGitHub, startFakeGitHub } from "../../support/fake-github/index.ts";
import { type Harness, harness, leakyRepository } from "./setup.ts";

let h: Harness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

function collectingLog() {
  const lines: string[] = [];
  return { lines, log: { debug: () => {}, info: () => {}, warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) } };
}

describe("rate limits and retries", () => {
  it("waits out a secondary rate limit for its retry-after, then succeeds", async () => {
    h = await harness();
    const { lines, log } = collectingLog();
    const client = createGitHubClient({ auth: { type: "token", token: h.token }, apiUrl: h.fake.apiUrl, log });
    h.fake.injectFault({ method: "GET", path: "/repos/acme/shop", status: 403, retryAfter: 1 });
    const started = Date.now();
    const repo = await client.getRepository("acme", "shop");
    expect(repo.defaultBranch).toBe("main");
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(h.fake.log.map((e) => e.status)).toEqual([403, 200]);
    expect(lines.join("\n")).toMatch(/secondary rate limit .* waiting 1 s/);
  });

  it("waits for a primary rate limit's reset time", async () => {
    h = await harness();
    const client = createGitHubClient({ auth: { type: "token", token: h.token }, apiUrl: h.fake.apiUrl });
    h.fake.injectFault({ method: "GET", path: "/repos/acme/shop", status: 403, primaryResetIn: 1 });
    const started = Date.now();
    await client.getRepository("acme", "shop");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(h.fake.log.map((e) => e.status)).toEqual([403, 200]);
  });

  it("a secondary limit on a write: waits, and the write happens exactly once", async () => {
    h = await harness();
    const client = createGitHubClient({ auth: { type: "token", token: h.token }, apiUrl: h.fake.apiUrl, writePauseMs: 0, rateLimitUnitMs: 100 });
    h.fake.injectFault({ method: "POST", path: "/git/blobs", status: 429, retryAfter: 2, message: "You have exceeded a secondary rate limit" });
    const blob = await client.octokit.rest.git.createBlob({ owner: "acme", repo: "shop", content: "x" });
    expect(blob.status).toBe(201);
    expect(h.fake.log.filter((e) => e.path.endsWith("/git/blobs")).map((e) => e.status)).toEqual([429, 201]);
  });

  it("gives up when the wait would be longer than allowed", async () => {
    h = await harness();
    const { lines, log } = collectingLog();
    const client = createGitHubClient({ auth: { type: "token", token: h.token }, apiUrl: h.fake.apiUrl, maxRateLimitWaitSeconds: 30, log });
    h.fake.injectFault({ method: "GET", path: "/repos/acme/shop", status: 403, retryAfter: 600 });
    await expect(client.getRepository("acme", "shop")).rejects.toMatchObject({ status: 403 });
    expect(lines.join("\n")).toContain("giving up");
  });

  it("retries 5xx answers and succeeds", async () => {
    h = await harness();
    const client = createGitHubClient({ auth: { type: "token", token: h.token }, apiUrl: h.fake.apiUrl, retryBaseMs: 20 });
    h.fake.injectFault({ method: "GET", path: "/repos/acme/shop", status: 502, times: 2 });
    await client.getRepository("acme", "shop");
    expect(h.fake.log.map((e) => e.status)).toEqual([502, 502, 200]);
  });

  it("does not retry a 422", async () => {
    h = await harness();
    const client = createGitHubClient({ auth: { type: "token", token: h.token }, apiUrl: h.fake.apiUrl, retryBaseMs: 20 });
    h.fake.injectFault({ method: "POST", path: "/git/blobs", status: 422 });
    await expect(client.octokit.rest.git.createBlob({ owner: "acme", repo: "shop", content: "x" })).rejects.toMatchObject({ status: 422 });
    expect(h.fake.log.map((e) => e.status)).toEqual([422]);
  });

  it("sends writes one at a time with the configured pause", async () => {
    h = await harness();
    const client = createGitHubClient({ auth: { type: "token", token: h.token }, apiUrl: h.fake.apiUrl, writePauseMs: 150 });
    await Promise.all([0, 1, 2, 3].map((i) => client.octokit.rest.git.createBlob({ owner: "acme", repo: "shop", content: `blob ${i}` })));
    const times = h.fake.writes().map((w) => w.at);
    expect(times).toHaveLength(4);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(140);
    expect(client.writeCount()).toBe(4);
  });
});

describe("GitHub Enterprise Server base URL", () => {
  it("does everything under /api/v3, fix pull requests included", async () => {
    h = await harness({ pathPrefix: "/api/v3" });
    expect(h.fake.apiUrl).toMatch(/\/api\/v3$/);
    const snap = await h.snapshot();
    const outcomes = await ensureFixPullRequests({ client: h.client, owner: "acme", repo: "shop", baseBranch: snap.branch, baseSha: snap.sha, root: snap.root, grouping: "repository" });
    expect(outcomes.map((o) => o.action)).toEqual(["created"]);
    expect(h.fake.pulls(h.fullName)).toHaveLength(1);
    // Without the prefix nothing answers: the client really used the configured base.
    const bare = createGitHubClient({ auth: { type: "token", token: h.token }, apiUrl: h.fake.origin, retries: 0 });
    await expect(bare.getRepository("acme", "shop")).rejects.toMatchObject({ status: 404 });
  });
});

describe("GitHub App authentication", () => {
  let fake: FakeGitHub;
  afterEach(async () => {
    await fake?.stop();
  });

  it("finds the installation with the app JWT and caches its token until shortly before expiry", async () => {
    fake = await startFakeGitHub();
    fake.createRepository({ owner: "acme", name: "shop", files: { "a.py": "x = 1\n" } });
    fake.createRepository({ owner: "acme", name: "api", files: { "b.py": "y = 1\n" } });
    const installationId = fake.createInstallation("acme", ["acme/shop", "acme/api"]);
    const app = createGitHubClient({ auth: { type: "app", appId: fake.app.id, privateKey: fake.app.privateKey }, apiUrl: fake.apiUrl, tokenRefreshMarginMs: 60_000 });
    expect(await app.installationFor("acme", "shop")).toBe(installationId);
    expect(await app.listInstallations()).toEqual([{ id: installationId, account: "acme" }]);
    const installation = app.forInstallation(installationId);
    const repos = await installation.listInstallationRepositories();
    expect(repos.map((r) => r.fullName).sort()).toEqual(["acme/api", "acme/shop"]);
    await installation.resolveHead("acme", "shop");
    await installation.getRepository("acme", "api");
    expect(fake.log.filter((e) => e.path.endsWith("/access_tokens"))).toHaveLength(1);

    // A token about to expire is not reused: a margin longer than its life renews every time.
    const eager = createGitHubClient({ auth: { type: "app", appId: fake.app.id, privateKey: fake.app.privateKey, installationId }, apiUrl: fake.apiUrl, tokenRefreshMarginMs: 2 * 3600_000 });
    fake.clearLog();
    await eager.getRepository("acme", "shop");
    await eager.getRepository("acme", "shop");
    expect(fake.log.filter((e) => e.path.endsWith("/access_tokens"))).toHaveLength(2);
  });

  it("is refused with a key that is not the app's", async () => {
    fake = await startFakeGitHub();
    fake.createRepository({ owner: "acme", name: "shop", files: { "a.py": "x = 1\n" } });
    const other = await startFakeGitHub();
    const wrongKey = other.app.privateKey;
    await other.stop();
    const app = createGitHubClient({ auth: { type: "app", appId: fake.app.id, privateKey: wrongKey }, apiUrl: fake.apiUrl });
    await expect(app.listInstallations()).rejects.toMatchObject({ status: 401 });
  });

  it("only an installation may create check runs; a token gets 403", async () => {
    fake = await startFakeGitHub();
    fake.createRepository({ owner: "acme", name: "shop", files: { "a.py": "x = 1\n" } });
    const installationId = fake.createInstallation("acme", ["acme/shop"]);
    const app = createGitHubClient({ auth: { type: "app", appId: fake.app.id, privateKey: fake.app.privateKey, installationId }, apiUrl: fake.apiUrl, writePauseMs: 0 });
    const head = await app.resolveHead("acme", "shop");
    const run = await app.octokit.rest.checks.create({ owner: "acme", repo: "shop", name: "Poolguard", head_sha: head.sha, status: "in_progress" });
    await app.octokit.rest.checks.update({ owner: "acme", repo: "shop", check_run_id: run.data.id, conclusion: "success", output: { title: "No findings", summary: "ok" } });
    const listed = await app.octokit.rest.checks.listForRef({ owner: "acme", repo: "shop", ref: head.sha });
    expect(listed.data.check_runs.map((r) => [r.name, r.status, r.conclusion])).toEqual([["Poolguard", "completed", "success"]]);
    const pat = createGitHubClient({ auth: { type: "token", token: fake.personalAccessToken("alice") }, apiUrl: fake.apiUrl, writePauseMs: 0 });
    await expect(pat.octokit.rest.checks.create({ owner: "acme", repo: "shop", name: "Poolguard", head_sha: head.sha })).rejects.toMatchObject({ status: 403 });
  });
});

describe("repository reads", () => {
  it("changed files between two commits, the config file at a commit, and tarballs only by sha", async () => {
    h = await harness();
    const first = (await h.client.resolveHead("acme", "shop")).sha;
    const second = h.fake.commitFiles(h.fullName, "main", { "poolguard.yml": "rules:\n  engine-per-call: off\n", "README.md": null }, { message: "Config", author: { name: "Dev", email: "d@example.test" } });
    expect(await h.client.changedFiles("acme", "shop", first, second)).toEqual([
      { path: "README.md", status: "removed" },
      { path: "poolguard.yml", status: "added" },
    ]);
    expect(await h.client.readConfigFile("acme", "shop", second)).toEqual({ path: "poolguard.yml", text: "rules:\n  engine-per-call: off\n" });
    expect(await h.client.readConfigFile("acme", "shop", first)).toBeNull();
    await expect(h.client.tarballUrl("acme", "shop", "main")).rejects.toThrow(/commit sha/);
  });

  it("downloads a commit's snapshot into memory, top folder stripped, and the same into a folder", async () => {
    h = await harness();
    const head = await h.client.resolveHead("acme", "shop");
    const memory = await downloadSnapshotIntoMemory(h.client, { owner: "acme", repo: "shop", sha: head.sha });
    expect(memory.files.map((f) => f.path)).toEqual(["README.md", "app/db.py", "app/users.py", "jobs/cleanup.py"]);
    expect(memory.files.find((f) => f.path === "jobs/cleanup.py")?.text).toBe(leakyRepository["jobs/cleanup.py"]);
    expect(memory.skipped).toEqual([]);
    const snap = await h.snapshot();
    expect(readFileSync(join(snap.root, "app/users.py"), "utf8")).toBe(leakyRepository["app/users.py"]);
    // The tarball was asked for by sha, and its link needs no credentials.
    const tarballCalls = h.fake.log.filter((e) => e.path.includes("/tarball/"));
    expect(tarballCalls.every((e) => e.path.endsWith(`/tarball/${head.sha}`))).toBe(true);
  });

  it("leaves out a repository's symlinks (git archive writes them as links) and says so", async () => {
    h = await harness();
    h.fake.commitFiles(h.fullName, "main", { "docs/passwd": { symlink: "/etc/passwd" }, "docs/up": { symlink: "../.." } }, { message: "Links", author: { name: "Dev", email: "d@example.test" } });
    const head = await h.client.resolveHead("acme", "shop");
    const memory = await downloadSnapshotIntoMemory(h.client, { owner: "acme", repo: "shop", sha: head.sha });
    expect(memory.skipped).toEqual([
      { path: "docs/passwd", reason: "link" },
      { path: "docs/up", reason: "link" },
    ]);
    expect(memory.files.some((f) => f.path.startsWith("docs/"))).toBe(false);
    await expect(downloadSnapshotIntoMemory(h.client, { owner: "acme", repo: "shop", sha: head.sha }, { links: "error" })).rejects.toThrow(/docs\/passwd.*symbolic link/);
  });

  it("reviews are all or nothing: one comment outside the diff fails the whole review", async () => {
    h = await harness();
    const snap = await h.snapshot();
    const [outcome] = await ensureFixPullRequests({ client: h.client, owner: "acme", repo: "shop", baseBranch: snap.branch, baseSha: snap.sha, root: snap.root, grouping: "repository" });
    const pull = outcome.number as number;
    const files = await h.client.octokit.rest.pulls.listFiles({ owner: "acme", repo: "shop", pull_number: pull });
    expect(files.data.map((f) => f.filename)).toEqual(["app/users.py", "jobs/cleanup.py"]);
    const octokit = h.client.octokit;
    await expect(
      octokit.rest.pulls.createReview({ owner: "acme", repo: "shop", pull_number: pull, event: "COMMENT", comments: [{ path: "app/users.py", line: 5, body: "ok" }, { path: "README.md", line: 1, body: "not in the diff" }] }),
    ).rejects.toMatchObject({ status: 422 });
    expect((await octokit.rest.pulls.listReviews({ owner: "acme", repo: "shop", pull_number: pull })).data).toHaveLength(0);
    await octokit.rest.pulls.createReview({ owner: "acme", repo: "shop", pull_number: pull, event: "COMMENT", body: "Looks right", comments: [{ path: "app/users.py", line: 5, side: "RIGHT", body: "ok" }] });
    expect((await octokit.rest.pulls.listReviewComments({ owner: "acme", repo: "shop", pull_number: pull })).data.map((c) => [c.path, c.line])).toEqual([["app/users.py", 5]]);
  });

  it("signs a user in through the OAuth endpoints", async () => {
    h = await harness();
    const code = h.fake.oauthCode("octo");
    const response = await fetch(`${h.fake.origin}/login/oauth/access_token`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ client_id: h.fake.app.clientId, client_secret: h.fake.app.clientSecret, code }),
    });
    const { access_token } = (await response.json()) as { access_token: string };
    expect(access_token).toMatch(/^ghu_/);
    const user = createGitHubClient({ auth: { type: "token", token: access_token }, apiUrl: h.fake.apiUrl });
    expect((await user.octokit.rest.users.getAuthenticated()).data.login).toBe("octo");
    const again = await fetch(`${h.fake.origin}/login/oauth/access_token`, { method: "POST", headers: { accept: "application/json" }, body: new URLSearchParams({ client_id: h.fake.app.clientId, client_secret: h.fake.app.clientSecret, code }) });
    expect(((await again.json()) as { error: string }).error).toBe("bad_verification_code");
  });
});

describe("credentials", () => {
  it("reads App or token auth from the environment", () => {
    expect(githubAuthFromEnv({ GITHUB_TOKEN: "ghp_abc" })).toEqual({ type: "token", token: "ghp_abc" });
    const pem = "-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE KEY-----";
    expect(githubAuthFromEnv({ GITHUB_APP_ID: "12", GITHUB_APP_PRIVATE_KEY: pem })).toEqual({ type: "app", appId: "12", privateKey: pem.replace(/\\n/g, "\n") });
    expect(() => githubAuthFromEnv({ GITHUB_APP_ID: "12" })).toThrow(GitHubConfigError);
    expect(() => githubAuthFromEnv({})).toThrow(/GITHUB_TOKEN/);
  });

  it("redacts tokens of any length, JWTs, keys and registered secrets", () => {
    const tokens = ["ghs_short123", `ghs_${"a".repeat(36)}`, `ghs_${"B9_".repeat(40)}`, `github_pat_${"x".repeat(82)}`, `gho_${"z".repeat(50)}`];
    for (const token of tokens) {
      const out = redact(`request failed for Authorization: token ${token} at /x`);
      expect(out).not.toContain(token);
      expect(redact(`tok=${token}.`)).not.toContain(token.slice(4));
    }
    expect(redact("authorization: bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2lnbmF0dXJl")).not.toContain("c2lnbmF0dXJl");
    expect(redact("key -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- end")).toBe("key [redacted] end");
    expect(redact("https://codeload.example/x.tar.gz?token=AAAABBBBCCCC")).not.toContain("AAAABBBBCCCC");
    registerSecret("plain-secret-value-without-prefix");
    expect(redact("oops plain-secret-value-without-prefix leaked")).toBe("oops [redacted] leaked");
  });

  it("never logs the token when a request fails", async () => {
    h = await harness();
    const { lines, log } = collectingLog();
    const client = createGitHubClient({ auth: { type: "token", token: h.token }, apiUrl: h.fake.apiUrl, log, rateLimitRetries: 0 });
    h.fake.injectFault({ method: "GET", path: "/repos/acme/shop", status: 403, retryAfter: 1 });
    await expect(client.getRepository("acme", "shop")).rejects.toBeTruthy();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain(h.token);
  });
});
