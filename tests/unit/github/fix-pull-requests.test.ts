import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureFixPullRequests, type EnsureFixPullRequestsInput, parseMarker } from "../../../lib/github/fix-pull-requests.ts";
import { type Harness, harness } from "./setup.ts";

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
    expect(session?.body).toContain("Use `with SessionLocal() as session:`");
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
