import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureFixPullRequests, type EnsureFixPullRequestsInput, parseMarker } from "../../../lib/github/fix-pull-requests.ts";
import { type Harness, harness, leakyRepository, reportJob } from "./setup.ts";

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.cleanup();
});

async function run(extra: Partial<EnsureFixPullRequestsInput> = {}) {
  const snap = await h.snapshot();
  return ensureFixPullRequests({ client: h.client, owner: "acme", repo: "shop", baseBranch: snap.branch, baseSha: snap.sha, root: snap.root, ...extra });
}

describe("ensureFixPullRequests", () => {
  it("opens one pull request per rule with the fixed files, an explaining body and a fingerprint marker", async () => {
    const outcomes = await run();
    expect(outcomes.map((o) => [o.branch, o.action])).toEqual([
      ["poolguard/fix-connection-not-closed", "created"],
      ["poolguard/fix-session-not-closed", "created"],
    ]);
    const pulls = h.fake.pulls(h.fullName);
    expect(pulls).toHaveLength(2);
    const session = pulls.find((p) => p.head === "poolguard/fix-session-not-closed");
    expect(session?.title).toBe("Fix session-not-closed: 2 findings");
    expect(session?.body).toContain("`app/users.py` line 5: `session-not-closed`");
    expect(session?.body).toContain("`jobs/cleanup.py` line 5");
    expect(session?.body).toContain("**Why it leaks:**");
    expect(session?.body).toContain("docs/rules/session-not-closed.md");
    // What the fix changes, in the analyzer's words.
    const described = outcomes.find((o) => o.branch === "poolguard/fix-session-not-closed")?.findings[0].fix?.description as string;
    expect(described).toMatch(/with SessionLocal\(\) as session/);
    expect(session?.body).toContain(`**What the fix changes:** ${described}`);
    const marker = parseMarker(session?.body);
    expect(marker?.head).toBe(h.fake.branchSha(h.fullName, "poolguard/fix-session-not-closed"));
    const fixed = h.fake.readFile(h.fullName, "poolguard/fix-session-not-closed", "jobs/cleanup.py");
    expect(fixed).toContain("with SessionLocal() as session:");
    // The other rule's finding is left for its own pull request.
    expect(h.fake.readFile(h.fullName, "poolguard/fix-session-not-closed", "app/users.py")).toContain("    conn = engine.connect()\n");
    // One commit on top of the base, nothing written to main.
    const main = h.fake.branchSha(h.fullName, "main");
    const head = h.fake.repos.get(h.fullName)?.git.readCommit(marker?.head as string);
    expect(head?.parents).toEqual([main]);
    expect(h.fake.writes().some((w) => w.path.includes("heads/main") || w.path.includes("heads%2Fmain"))).toBe(false);
  });

  it("makes zero write calls when run again on the same findings", async () => {
    await run();
    h.fake.clearLog();
    const again = await run();
    expect(again.map((o) => o.action)).toEqual(["unchanged", "unchanged"]);
    expect(h.fake.writeCount()).toBe(0);
    expect(h.fake.pulls(h.fullName)).toHaveLength(2);
  });
});

describe("ensureFixPullRequests when things change", () => {
  it("rebuilds the branch as one fresh commit on the current base when the findings change", async () => {
    await run();
    const before = h.fake.branchSha(h.fullName, "poolguard/fix-session-not-closed");
    // Someone adds another leaky function on main.
    const newBase = h.fake.commitFiles(
      h.fullName,
      "main",
      { "jobs/report.py": reportJob },
      { message: "Add report job", author: { name: "Dev", email: "dev@example.test" } },
    );
    h.fake.clearLog();
    const outcomes = await run();
    expect(outcomes.find((o) => o.branch === "poolguard/fix-session-not-closed")?.action).toBe("updated");
    expect(outcomes.find((o) => o.branch === "poolguard/fix-connection-not-closed")?.action).toBe("unchanged");
    const after = h.fake.branchSha(h.fullName, "poolguard/fix-session-not-closed") as string;
    expect(after).not.toBe(before);
    const commit = h.fake.repos.get(h.fullName)?.git.readCommit(after);
    expect(commit?.parents).toEqual([newBase]);
    expect(h.fake.readFile(h.fullName, after, "jobs/report.py")).toContain("with SessionLocal() as session:");
    const pull = h.fake.pulls(h.fullName).find((p) => p.head === "poolguard/fix-session-not-closed");
    expect(pull?.title).toBe("Fix session-not-closed: 3 findings");
    expect(parseMarker(pull?.body)?.head).toBe(after);
    expect(h.fake.pulls(h.fullName)).toHaveLength(2);
    // Only that branch's ref was forced; main untouched.
    const refWrites = h.fake.writes().filter((w) => w.path.includes("/git/refs"));
    expect(refWrites.map((w) => [w.method, decodeURIComponent(w.path)])).toEqual([["PATCH", "/repos/acme/shop/git/refs/heads/poolguard/fix-session-not-closed"]]);
  });

  it("stops touching a branch someone else pushed to, says why once, and records it", async () => {
    await run();
    const branch = "poolguard/fix-session-not-closed";
    const human = h.fake.commitFiles(h.fullName, branch, { "jobs/cleanup.py": "# reviewed by hand\n" }, { message: "Tweak", author: { name: "Reviewer", email: "r@example.test" } });
    h.fake.commitFiles(h.fullName, "main", { "jobs/report.py": reportJob }, { message: "More", author: { name: "Dev", email: "dev@example.test" } });
    const outcomes = await run();
    const outcome = outcomes.find((o) => o.branch === branch);
    expect(outcome?.action).toBe("skipped-foreign-commits");
    expect(outcome?.reason).toContain(human.slice(0, 12));
    expect(h.fake.branchSha(h.fullName, branch)).toBe(human);
    const pull = h.fake.pulls(h.fullName).find((p) => p.head === branch);
    const comments = h.fake.repos.get(h.fullName)?.comments.filter((c) => c.issue === pull?.number) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain("stopped updating this branch");
    h.fake.clearLog();
    await run();
    expect(h.fake.writeCount()).toBe(0);
    expect(h.fake.branchSha(h.fullName, branch)).toBe(human);
  });

  it("rebuilds a branch someone pushed to when the Rebuild box is ticked", async () => {
    await run();
    const branch = "poolguard/fix-session-not-closed";
    h.fake.commitFiles(h.fullName, branch, { "jobs/cleanup.py": "# by hand\n" }, { message: "Tweak", author: { name: "Reviewer", email: "r@example.test" } });
    expect((await run()).find((o) => o.branch === branch)?.action).toBe("skipped-foreign-commits");
    const pull = h.fake.pulls(h.fullName).find((p) => p.head === branch);
    if (!pull?.body) throw new Error("no pull request body");
    expect(pull.body).toContain("- [ ] Rebuild this branch");
    pull.body = pull.body.replace("- [ ] Rebuild this branch", "- [x] Rebuild this branch");
    const outcome = (await run()).find((o) => o.branch === branch);
    expect(outcome?.action).toBe("updated");
    const head = h.fake.branchSha(h.fullName, branch) as string;
    expect(h.fake.repos.get(h.fullName)?.git.readCommit(head).parents).toEqual([h.fake.branchSha(h.fullName, "main")]);
    expect(h.fake.readFile(h.fullName, branch, "jobs/cleanup.py")).toContain("with SessionLocal() as session");
    expect(pull.body).toContain("- [ ] Rebuild this branch");
    h.fake.clearLog();
    expect((await run()).find((o) => o.branch === branch)?.action).toBe("unchanged");
    expect(h.fake.writeCount()).toBe(0);
  });

  it("does not propose findings again after their pull request was closed without merging, until they change", async () => {
    await run();
    const pull = h.fake.pulls(h.fullName).find((p) => p.head === "poolguard/fix-session-not-closed");
    h.fake.closePullRequest(h.fullName, pull?.number as number);
    h.fake.clearLog();
    const again = await run();
    expect(again.find((o) => o.branch === "poolguard/fix-session-not-closed")?.action).toBe("skipped-closed");
    expect(h.fake.writeCount()).toBe(0);
    h.fake.commitFiles(h.fullName, "main", { "jobs/report.py": reportJob }, { message: "More", author: { name: "Dev", email: "dev@example.test" } });
    const changed = await run();
    expect(changed.find((o) => o.branch === "poolguard/fix-session-not-closed")?.action).toBe("created");
    const open = h.fake.pulls(h.fullName).filter((p) => p.head === "poolguard/fix-session-not-closed" && p.state === "open");
    expect(open).toHaveLength(1);
    expect(open[0].number).not.toBe(pull?.number);
  });

  it("closes its own pull request once the findings are fixed some other way, and may propose them again later", async () => {
    await run();
    const fixedByHand = (leakyRepository["app/users.py"] as string).replace("    conn = engine.connect()\n    conn.execute(\"SELECT 1\")\n", "    with engine.connect() as conn:\n        conn.execute(\"SELECT 1\")\n");
    expect(fixedByHand).not.toBe(leakyRepository["app/users.py"]);
    h.fake.commitFiles(h.fullName, "main", { "app/users.py": fixedByHand }, { message: "Close the connection", author: { name: "Dev", email: "d@example.test" } });
    const outcomes = await run();
    expect(outcomes.map((o) => [o.branch, o.action])).toEqual([
      ["poolguard/fix-connection-not-closed", "closed-resolved"],
      ["poolguard/fix-session-not-closed", "updated"],
    ]);
    const closed = h.fake.pulls(h.fullName).find((p) => p.head === "poolguard/fix-connection-not-closed");
    expect(closed?.state).toBe("closed");
    expect(h.fake.repos.get(h.fullName)?.comments.find((c) => c.issue === closed?.number)?.body).toContain("no longer on main");
    h.fake.clearLog();
    await run();
    expect(h.fake.writeCount()).toBe(0);
    // The leak comes back: Poolguard closed that pull request itself, so it proposes the fix again.
    h.fake.commitFiles(h.fullName, "main", { "app/users.py": leakyRepository["app/users.py"] }, { message: "Revert", author: { name: "Dev", email: "d@example.test" } });
    const again = await run();
    expect(again.find((o) => o.branch === "poolguard/fix-connection-not-closed")?.action).toBe("created");
  });

  it("closes nothing while some file does not parse (its findings are unknown)", async () => {
    await run();
    h.fake.commitFiles(h.fullName, "main", { "app/users.py": "from app.db import SessionLocal\n\n\ndef broken(:\n    session = SessionLocal()\n" }, { message: "Work in progress", author: { name: "Dev", email: "d@example.test" } });
    const outcomes = await run();
    expect(outcomes.map((o) => o.action)).not.toContain("closed-resolved");
    expect(h.fake.pulls(h.fullName).filter((p) => p.state === "open")).toHaveLength(2);
  });

  it("keeps at most maxOpen fix pull requests open", async () => {
    const outcomes = await run({ maxOpen: 1 });
    expect(outcomes.map((o) => o.action)).toEqual(["created", "skipped-limit"]);
    expect(outcomes[1].reason).toContain("limit 1");
    expect(h.fake.pulls(h.fullName).filter((p) => p.state === "open")).toHaveLength(1);
    expect(h.fake.branches(h.fullName).sort()).toEqual(["main", "poolguard/fix-connection-not-closed"]);
  });

  it("never writes to a branch it did not create", async () => {
    h.fake.commitFiles(h.fullName, "poolguard/fix-session-not-closed", { "notes.txt": "mine\n" }, { message: "A person's branch", author: { name: "Dev", email: "dev@example.test" } });
    const before = h.fake.branchSha(h.fullName, "poolguard/fix-session-not-closed");
    const outcomes = await run();
    expect(outcomes.find((o) => o.branch === "poolguard/fix-session-not-closed")?.action).toBe("skipped-foreign-branch");
    expect(h.fake.branchSha(h.fullName, "poolguard/fix-session-not-closed")).toBe(before);
    expect(h.fake.pulls(h.fullName).map((p) => p.head)).toEqual(["poolguard/fix-connection-not-closed"]);
  });

  it("groups per directory or into one pull request per repository, with a custom prefix", async () => {
    const byDir = await run({ grouping: "directory", branchPrefix: "bots/pg/", dryRun: true });
    expect(byDir.map((o) => [o.group, o.action, o.findings.length])).toEqual([
      ["app", "would-create", 2],
      ["jobs", "would-create", 1],
    ]);
    expect(byDir.every((o) => o.branch.startsWith("bots/pg/fix-"))).toBe(true);
    expect(h.fake.writeCount()).toBe(0);
    const whole = await run({ grouping: "repository" });
    expect(whole.map((o) => [o.branch, o.action, o.findings.length])).toEqual([["poolguard/fix-all", "created", 3]]);
    expect(whole[0].files.map((f) => f.path)).toEqual(["app/users.py", "jobs/cleanup.py"]);
  });
});
