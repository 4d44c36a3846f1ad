import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BotHarness, botHarness, dbModule, leakyModule } from "./harness.ts";

// Annotation batching, anchors outside the diff, the "Fix these" action (same
// repository and fork), installation sync, fix pull request lifecycle, push scans.

let h: BotHarness;

beforeAll(async () => {
  h = await botHarness({ files: { "app/db.py": dbModule, "README.md": "# shop\n" } });
});
afterAll(async () => {
  await h.cleanup();
});

const repo = () => h.fake.repos.get("acme/shop");
const checkRuns = (sha: string) => repo()?.checkRuns.filter((r) => r.headSha === sha) ?? [];
const dbClient = async () => (await import("../../../lib/db/client.ts")).db();

describe("installation events", () => {
  it("sync the installation, its organization and repositories", async () => {
    const installation = await h.installationPayload();
    const repository = await h.repositoryPayload();
    const created = { action: "created", installation, repositories: [{ id: repository.id, node_id: repository.node_id, name: "shop", full_name: "acme/shop", private: true }], requester: null, sender: repository.owner };
    expect((await h.deliver("installation", "installation-created", created)).status).toBe(202);
    await h.settle();
    const db = await dbClient();
    const row = await db.installation.findUnique({ where: { githubId: BigInt(h.installationId) }, include: { organization: true, repositories: true } });
    expect(row?.organization?.slug).toBe("acme");
    expect(row?.repositories.map((r) => ({ name: r.name, provider: r.provider, githubId: Number(r.githubId) }))).toEqual([{ name: "acme/shop", provider: "github", githubId: repository.id }]);

    const added = {
      action: "added",
      installation,
      repository_selection: "selected",
      repositories_added: [{ id: 987654, node_id: "R_other", name: "billing", full_name: "acme/billing", private: false }],
      repositories_removed: [],
      requester: null,
      sender: repository.owner,
    };
    await h.deliver("installation_repositories", "installation-repositories-added", added);
    await h.settle();
    const removed = { ...added, action: "removed", repositories_added: [], repositories_removed: [{ id: 987654, node_id: "R_other", name: "billing", full_name: "acme/billing", private: false }] };
    await h.deliver("installation_repositories", "installation-repositories-removed", removed);
    await h.settle();
    const billing = await db.repository.findFirst({ where: { name: "acme/billing" } });
    expect(billing).toMatchObject({ provider: "github", installationId: null });
    const shop = await db.repository.findFirst({ where: { name: "acme/shop" } });
    expect(shop?.installationId).toBe(row?.id);
    const statuses = await db.webhookDelivery.findMany({ select: { event: true, status: true } });
    expect(statuses.every((d) => d.status === "processed")).toBe(true);
  });
});

describe("a large pull request", () => {
  it("sends annotations 50 per call, most severe first, and counts the rest in the summary", async () => {
    // 60 leaks whose fixes lie outside the diff (only a comment added on top): all annotations.
    const text = leakyModule(60, "bulk");
    h.push("main", { "app/bulk.py": text });
    const number = await h.openPullRequest("bulk", { "app/bulk.py": `# touched\n${text}` });
    const payload = await h.pullRequestPayload("opened", number);
    h.fake.clearLog();
    await h.deliver("pull_request", "pull-request-opened", payload);
    await h.settle();
    const [run] = checkRuns(payload.pull_request.head.sha);
    expect(run).toMatchObject({ conclusion: "neutral" });
    expect(run?.output.annotations).toHaveLength(60);
    const updates = h.fake.log.filter((e) => e.method === "PATCH" && e.path.includes("/check-runs/"));
    expect(updates).toHaveLength(2);
    expect(run?.output.summary).toContain("60 shown as annotations");
    // The fixes lie outside the diff: no review at all.
    expect(repo()?.reviews.filter((r) => r.pull === number)).toHaveLength(0);
  });
});

describe("anchors", () => {
  it("a fix whose lines span two hunks of the diff stays an annotation, and the review with the valid one is accepted", async () => {
    // One leaking function with a long body: the fix re-indents every line of it.
    const body = Array.from({ length: 12 }, (_, i) => `    session.execute("SELECT ${i}")`);
    const base = `from app.db import SessionLocal\n\n\ndef long_job():\n    session = SessionLocal()\n${body.join("\n")}\n    session.commit()\n`;
    h.push("main", { "app/long.py": base });
    // Change the first and the last statement: two hunks, the unchanged middle is outside the diff.
    const changed = base.replace('"SELECT 0")', '"SELECT 0 -- a")').replace('"SELECT 11")', '"SELECT 11 -- b")');
    const number = await h.openPullRequest("split", { "app/long.py": changed, "app/together.py": leakyModule(1, "together") });
    const files = await h.dev.octokit.rest.pulls.listFiles({ owner: "acme", repo: "shop", pull_number: number });
    const patch = files.data.find((f) => f.filename === "app/long.py")?.patch ?? "";
    expect(patch.match(/^@@/gm)).toHaveLength(2);
    const payload = await h.pullRequestPayload("opened", number);
    await h.deliver("pull_request", "pull-request-opened", payload);
    await h.settle();
    const comments = repo()?.reviewComments.filter((c) => c.pull === number) ?? [];
    // The fake, like GitHub, refuses a whole review with 422 when one anchor is outside the diff.
    expect(comments.map((c) => c.path)).toEqual(["app/together.py"]);
    const [run] = checkRuns(payload.pull_request.head.sha);
    expect(run?.conclusion).toBe("failure");
    expect(run?.output.annotations).toEqual([expect.objectContaining({ path: "app/long.py", start_line: 5 })]);
  });
});

describe("the Fix these action", () => {
  it("pushes one commit with the safe fixes to the pull request's branch", async () => {
    const number = await h.openPullRequest("fixme", { "app/fixme.py": leakyModule(2, "fixme") });
    const payload = await h.pullRequestPayload("opened", number);
    await h.deliver("pull_request", "pull-request-opened", payload);
    await h.settle();
    const [run] = checkRuns(payload.pull_request.head.sha);
    expect(run?.conclusion).toBe("failure");
    const action = await h.checkRunPayload("requested_action", { id: run?.id as number, head_sha: payload.pull_request.head.sha, number });
    expect((await h.deliver("check_run", "check-run-requested-action", action)).status).toBe(202);
    await h.settle();
    const head = h.fake.branchSha("acme/shop", "fixme") as string;
    expect(head).not.toBe(payload.pull_request.head.sha);
    const fixed = h.fake.readFile("acme/shop", head, "app/fixme.py") ?? "";
    expect(fixed.match(/with SessionLocal\(\) as session:/g)).toHaveLength(2);
    const commit = repo()?.git.readCommit(head);
    expect(commit?.parents).toEqual([payload.pull_request.head.sha]);
    // The new head is reviewed like any push: nothing is left.
    await h.deliver("pull_request", "pull-request-synchronize", await h.pullRequestPayload("synchronize", number));
    await h.settle();
    expect(checkRuns(head)[0]).toMatchObject({ conclusion: "success" });
  });

  it("explains what to run locally when the branch is in a fork", async () => {
    const number = await h.openPullRequest("from-fork", { "app/fork.py": leakyModule(1, "fork") });
    h.fake.markFromFork("acme/shop", number, "contributor");
    const payload = await h.pullRequestPayload("opened", number);
    expect(payload.pull_request.head.repo.full_name).toBe("contributor/shop");
    await h.deliver("pull_request", "pull-request-opened", payload);
    await h.settle();
    const [run] = checkRuns(payload.pull_request.head.sha);
    expect(run?.conclusion).toBe("failure");
    const before = h.fake.branchSha("acme/shop", "from-fork");
    await h.deliver("check_run", "check-run-requested-action", await h.checkRunPayload("requested_action", { id: run?.id as number, head_sha: payload.pull_request.head.sha, number }));
    await h.settle();
    expect(h.fake.branchSha("acme/shop", "from-fork")).toBe(before);
    expect(checkRuns(payload.pull_request.head.sha)[0]?.output.summary).toContain("npx poolguard scan . --fix");
  });
});

describe("superseded work", () => {
  it("a review of an older head is cancelled when the pull request has moved on", async () => {
    const number = await h.openPullRequest("fast", { "app/fast.py": leakyModule(1, "fast") });
    const old = await h.pullRequestPayload("opened", number);
    h.push("fast", { "app/fast2.py": leakyModule(1, "fast2") });
    const current = await h.pullRequestPayload("synchronize", number);
    await Promise.all([h.deliver("pull_request", "pull-request-opened", old), h.deliver("pull_request", "pull-request-synchronize", current)]);
    await h.settle();
    // The old head gets no completed review of its own (at most a cancelled run).
    const oldRuns = checkRuns(old.pull_request.head.sha);
    expect(oldRuns.every((r) => r.conclusion === "cancelled")).toBe(true);
    expect(checkRuns(current.pull_request.head.sha)[0]).toMatchObject({ conclusion: "failure" });
  });
});

describe("fix pull requests and pushes", () => {
  it("a merged Poolguard fix pull request marks its findings fixed; a push to the default branch queues a scan", async () => {
    const db = await dbClient();
    const repository = await db.repository.findFirstOrThrow({ where: { name: "acme/shop" } });
    const finding = await db.finding.create({ data: { repositoryId: repository.id, fingerprint: "f00d", rule: "session-not-closed", severity: "warning", message: "m", path: "app/x.py", line: 1, column: 1, endLine: 1, endColumn: 2 } });
    const { upsertFixPullRequest } = await import("../../../lib/db/index.ts");
    h.push("poolguard/fix-session-not-closed", { "app/x.py": "x = 1\n" });
    const { data: pr } = await h.dev.octokit.rest.pulls.create({ owner: "acme", repo: "shop", title: "Fix", head: "poolguard/fix-session-not-closed", base: "main", body: "Fixes.\n\n<!-- poolguard:fingerprint=abc findings=1 head=def -->" });
    await upsertFixPullRequest({ repositoryId: repository.id, branch: "poolguard/fix-session-not-closed", title: "Fix", baseBranch: "main", bodyFingerprint: "abc", number: pr.number, findingIds: [finding.id] });
    h.fake.closePullRequest("acme/shop", pr.number, { merge: true });
    const closed = await h.pullRequestPayload("closed", pr.number);
    expect(closed.pull_request.merged).toBe(true);
    await h.deliver("pull_request", "pull-request-closed", closed);
    await h.settle();
    expect(await db.fixPullRequest.findFirst({ where: { repositoryId: repository.id } })).toMatchObject({ state: "merged" });
    expect(await db.finding.findUnique({ where: { id: finding.id } })).toMatchObject({ status: "fixed" });

    const repositoryPayload = await h.repositoryPayload();
    const after = h.fake.branchSha("acme/shop", "main") as string;
    const push = { ref: "refs/heads/main", before: "0".repeat(40), after, base_ref: null, compare: "", commits: [], created: false, deleted: false, forced: false, head_commit: null, pusher: { name: "dev" }, repository: repositoryPayload, sender: repositoryPayload.owner, installation: { id: h.installationId, node_id: "I" } };
    await h.deliver("push", "push", push);
    await h.settle();
    expect(await db.scan.findFirst({ where: { repositoryId: repository.id, trigger: "push" } })).toMatchObject({ commitSha: after, branch: "main", status: "queued" });
  });
});
