// Fix pull requests recorded in the database: a real scan stored with completeScan,
// then ensureFixPullRequests against the fake GitHub with the database store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../../lib/analyzer/index.ts";
import { databaseFixPullRequestStore } from "../../../lib/github/db-store.ts";
import { ensureFixPullRequests } from "../../../lib/github/fix-pull-requests.ts";
import * as db from "../../../lib/db/index.ts";
import { testProvider, useFreshDatabase } from "../db/fresh-database.ts";
import { type Harness, harness, reportJob } from "../../unit/github/setup.ts";

const provider = testProvider();
let drop: () => Promise<void>;
let h: Harness;

beforeAll(async () => {
  ({ drop } = await useFreshDatabase());
  h = await harness();
});
afterAll(async () => {
  await h?.cleanup();
  await db.disconnectDatabase();
  await drop?.();
});

describe(`fix pull requests recorded on ${provider}`, () => {
  it("records every pull request with its findings and state, and why Poolguard stopped updating one", async () => {
    const user = await db.createUser({ email: "gh@example.test", name: "gh" });
    const organization = await db.createOrganization({ slug: "acme", name: "acme", ownerUserId: user.id });
    const repository = await db.createRepository({ organizationId: organization.id, provider: "github", name: "acme/shop" });
    const snap = await h.snapshot();
    const result = await scan({ root: snap.root, fix: "none" });
    const record = await db.createScan({ repositoryId: repository.id, trigger: "cli" });
    await db.completeScan(record.id, result);
    const store = databaseFixPullRequestStore(repository.id);

    const outcomes = await ensureFixPullRequests({ client: h.client, owner: "acme", repo: "shop", baseBranch: snap.branch, baseSha: snap.sha, root: snap.root, findings: result.findings, store });
    expect(outcomes.map((o) => o.action)).toEqual(["created", "created"]);
    const rows = await db.listFixPullRequests(repository.id);
    expect(rows.map((r) => [r.branch, r.state, r.groupKey]).sort()).toEqual([
      ["poolguard/fix-connection-not-closed", "open", "connection-not-closed"],
      ["poolguard/fix-session-not-closed", "open", "session-not-closed"],
    ]);
    const findings = await db.listFindings({ repositoryId: repository.id });
    const sessionRow = rows.find((r) => r.branch === "poolguard/fix-session-not-closed");
    const sessionFindingIds = findings.filter((f) => f.rule === "session-not-closed").map((f) => f.id).sort();
    expect(sessionRow?.findingIds.sort()).toEqual(sessionFindingIds);
    expect(sessionRow?.number).toBe(h.fake.pulls(h.fullName).find((p) => p.head === "poolguard/fix-session-not-closed")?.number);
    expect(sessionRow?.headSha).toBe(h.fake.branchSha(h.fullName, "poolguard/fix-session-not-closed"));
    expect(sessionRow?.url).toContain("/acme/shop/pull/");
    expect(sessionRow?.stoppedReason).toBeNull();

    // Someone pushes to the branch; the findings change; Poolguard stops and records why.
    h.fake.commitFiles(h.fullName, "poolguard/fix-session-not-closed", { "jobs/cleanup.py": "# by hand\n" }, { message: "Hand edit", author: { name: "Dev", email: "d@example.test" } });
    h.fake.commitFiles(h.fullName, "main", { "jobs/report.py": reportJob }, { message: "More", author: { name: "Dev", email: "d@example.test" } });
    const snap2 = await h.snapshot();
    await ensureFixPullRequests({ client: h.client, owner: "acme", repo: "shop", baseBranch: snap2.branch, baseSha: snap2.sha, root: snap2.root, store });
    const stopped = await db.getFixPullRequest(repository.id, "poolguard/fix-session-not-closed");
    expect(stopped?.stoppedReason).toMatch(/someone else pushed commit [0-9a-f]{12}/);

    // Closed without merging: the state follows.
    const pull = h.fake.pulls(h.fullName).find((p) => p.head === "poolguard/fix-connection-not-closed");
    h.fake.closePullRequest(h.fullName, pull?.number as number);
    await ensureFixPullRequests({ client: h.client, owner: "acme", repo: "shop", baseBranch: snap2.branch, baseSha: snap2.sha, root: snap2.root, store });
    const closed = await db.getFixPullRequest(repository.id, "poolguard/fix-connection-not-closed");
    expect(closed?.state).toBe("closed");
    expect(closed?.closedAt).toBeInstanceOf(Date);
  });
});
