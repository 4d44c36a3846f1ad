import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../../lib/analyzer/index.ts";
import { type BotHarness, botHarness, dbModule, leakyModule } from "./harness.ts";

// A connected repository whose default branch was scanned at the merge base: the review
// takes the merge base's findings from that stored scan (one snapshot download, one
// scan) and classifies exactly as a scan of the merge base would. When the latest stored
// scan is of another commit, the review scans the merge base itself.

let h: BotHarness;
let repositoryId: string;

const preExisting = `from app.db import SessionLocal\n\n\ndef old_job():\n    session = SessionLocal()\n    session.execute("SELECT 1")\n    session.commit()\n${Array.from({ length: 6 }, (_, i) => `\n\ndef helper_${i}():\n    return ${i}\n`).join("")}`;
const files: Record<string, string> = { "app/__init__.py": "", "app/db.py": dbModule, "app/old.py": preExisting, "app/other.py": leakyModule(1, "other") };
const fixedOther = 'from app.db import SessionLocal\n\n\ndef other_0():\n    with SessionLocal() as session:\n        session.execute("SELECT 0")\n        session.commit()\n';

beforeAll(async () => {
  h = await botHarness({ files });
  const bot = await import("../../../lib/db/github-bot.ts");
  const { data } = await h.dev.octokit.rest.repos.get({ owner: "acme", repo: "shop" });
  await bot.syncInstallation({ githubId: h.installationId, accountLogin: "acme", accountType: "Organization" });
  await bot.syncInstallationRepositories(h.installationId, [{ githubId: data.id, fullName: "acme/shop", private: true }]);
  const repository = await bot.findGitHubRepository({ githubId: data.id, fullName: "acme/shop" });
  repositoryId = repository?.id as string;
});
afterAll(async () => {
  await h.cleanup();
});

/** What the push scan of the default branch stores: a full scan of `files` at `sha`. */
async function storeScan(sha: string, tree: Record<string, string>) {
  const db = await import("../../../lib/db/index.ts");
  const root = mkdtempSync(join(tmpdir(), "poolguard-stored-"));
  try {
    for (const [path, text] of Object.entries(tree)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const result = await scan({ root });
    const stored = await db.createScan({ repositoryId, trigger: "push", branch: "main", commitSha: sha });
    await db.completeScan(stored.id, result, { commitSha: sha });
    return result.findings;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function checkRuns(sha: string) {
  return h.fake.repos.get("acme/shop")?.checkRuns.filter((r) => r.headSha === sha) ?? [];
}

function tarballRequests(): string[] {
  return h.fake.log.filter((e) => e.method === "GET" && e.path.includes("/tarball/")).map((e) => e.path.slice(e.path.lastIndexOf("/") + 1));
}

describe("the merge base's findings", () => {
  it("come from the stored scan of that commit: one download, and new, pre-existing and fixed as a scan would say", async () => {
    const main = h.fake.branchSha("acme/shop", "main") as string;
    const stored = await storeScan(main, files);
    expect(stored.map((f) => f.path).sort()).toEqual(["app/old.py", "app/other.py"]);
    // Keeps the old leak (edits elsewhere in the file), fixes the other one, adds a new one.
    const number = await h.openPullRequest("stored", { "app/old.py": `${preExisting}\n\ndef unrelated():\n    return 1\n`, "app/other.py": fixedOther, "app/new.py": leakyModule(1, "fresh") });
    const payload = await h.pullRequestPayload("opened", number);
    h.fake.clearLog();
    expect((await h.deliver("pull_request", "pull-request-opened", payload)).status).toBe(202);
    await h.settle();
    const [run] = checkRuns(payload.pull_request.head.sha);
    expect(run).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(run?.output.title).toBe("1 new, 1 pre-existing, 1 fixed findings");
    expect(run?.output.annotations).toEqual([expect.objectContaining({ path: "app/old.py", title: "session-not-closed (pre-existing)" })]);
    // Only the head was downloaded: the merge base was not scanned again.
    expect(tarballRequests()).toEqual([payload.pull_request.head.sha]);
  });

  it("are scanned when the latest stored scan is of another commit, with the same classification", async () => {
    // The default branch moves on (a new commit nobody scanned yet).
    h.push("main", { "README.md": "# shop\n" });
    const number = await h.openPullRequest("unscanned", { "app/old.py": `${preExisting}\n\ndef unrelated():\n    return 2\n`, "app/other.py": fixedOther, "app/new.py": leakyModule(1, "newer") });
    const payload = await h.pullRequestPayload("opened", number);
    h.fake.clearLog();
    await h.deliver("pull_request", "pull-request-opened", payload);
    await h.settle();
    const [run] = checkRuns(payload.pull_request.head.sha);
    expect(run?.output.title).toBe("1 new, 1 pre-existing, 1 fixed findings");
    expect(tarballRequests().sort()).toEqual([payload.pull_request.head.sha, payload.pull_request.base.sha].sort());
  });

  it("leave out rules the base configuration switches off, so they are not counted as fixed", async () => {
    // The base config turns the rule off, but the stored scan ran with the rule on (a
    // configuration saved in the dashboard, say) and saw both leaks.
    h.push("main", { "poolguard.yml": "rules:\n  session-not-closed: off\n" });
    const main = h.fake.branchSha("acme/shop", "main") as string;
    const stored = await storeScan(main, { ...files, "README.md": "# shop\n" });
    expect(stored.filter((f) => f.rule === "session-not-closed").map((f) => f.path)).toContain("app/other.py");
    const number = await h.openPullRequest("rule-off", { "app/other.py": fixedOther });
    const payload = await h.pullRequestPayload("opened", number);
    h.fake.clearLog();
    await h.deliver("pull_request", "pull-request-opened", payload);
    await h.settle();
    const [run] = checkRuns(payload.pull_request.head.sha);
    expect(tarballRequests()).toEqual([payload.pull_request.head.sha]);
    expect(run).toMatchObject({ conclusion: "success" });
    expect(run?.output.title).toBe("0 new, 0 pre-existing, 0 fixed findings");
  });
});
