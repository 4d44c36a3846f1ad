import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Finding, ScanResult } from "../../../lib/analyzer/types.ts";
import * as db from "../../../lib/db/index.ts";
import { testProvider, useFreshDatabase } from "./fresh-database.ts";

const provider = testProvider();
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ drop } = await useFreshDatabase());
});
afterAll(async () => {
  await db.disconnectDatabase();
  await drop();
});

function finding(fingerprint: string, overrides: Partial<Finding> = {}): Finding {
  return {
    rule: "session-not-closed",
    severity: "warning",
    message: "session is never closed",
    path: "src/bot/handlers.py",
    line: 10,
    column: 5,
    end_line: 10,
    end_column: 30,
    fingerprint,
    suppressed: false,
    fix: null,
    ...overrides,
  };
}

function result(findings: Finding[]): ScanResult {
  return { tool: { name: "poolguard", version: "0.1.0" }, root: "/repo", files_scanned: 4, duration_ms: 12, findings, errors: [] };
}

async function workspace(slug: string) {
  const user = await db.createUser({ email: `${slug}@example.test`, name: slug, passwordHash: "salt:key" });
  const organization = await db.createOrganization({ slug, name: slug, ownerUserId: user.id });
  const repository = await db.createRepository({ organizationId: organization.id, provider: "local", name: `${slug}/app`, localPath: "/srv/app" });
  return { user, organization, repository };
}

describe(`lib/db on ${provider}`, () => {
  it("reports its provider and a healthy database", async () => {
    expect(db.getDatabaseInfo().provider).toBe(provider);
    const health = await db.checkDatabase();
    expect(health).toMatchObject({ ok: true, provider });
  });

  it("creates users with normalised emails and owner memberships", async () => {
    const { user, organization } = await workspace("alpha");
    expect(await db.findUserByEmail("  ALPHA@example.test ")).toMatchObject({ id: user.id });
    expect(await db.getMembership(user.id, organization.id)).toEqual({ role: "owner" });
    expect(await db.listOrganizationsForUser(user.id)).toEqual([{ id: organization.id, slug: "alpha", name: "alpha", role: "owner" }]);
    await expect(db.createUser({ email: "alpha@example.test", name: "again" })).rejects.toThrow();
  });

  it("keeps password hashes on the credential account and uses sign-in tokens once", async () => {
    const user = await db.createUser({ email: "tokens@example.test", name: "t", passwordHash: "salt:key" });
    expect(await db.findPasswordHash(user.id)).toBe("salt:key");
    await db.setUserPassword(user.id, "salt2:key2");
    expect(await db.findPasswordHash(user.id)).toBe("salt2:key2");
    const invited = await db.createUser({ email: "invited@example.test", name: "i" });
    expect(await db.findPasswordHash(invited.id)).toBeNull();

    await db.createSignInToken({ userId: user.id, tokenHash: "once", expiresAt: new Date(Date.now() + 60_000) });
    await db.createSignInToken({ userId: user.id, tokenHash: "stale", expiresAt: new Date(Date.now() - 1) });
    const attempts = await Promise.all([db.consumeSignInToken("once"), db.consumeSignInToken("once")]);
    expect(attempts.filter((a) => a === user.id)).toHaveLength(1);
    expect(await db.consumeSignInToken("once")).toBeNull();
    expect(await db.consumeSignInToken("stale")).toBeNull();
    expect(await db.consumeSignInToken("unknown")).toBeNull();
  });

  it("reconciles findings by fingerprint across scans", async () => {
    const { user, organization, repository } = await workspace("beta");
    const first = await db.createScan({ repositoryId: repository.id, trigger: "cli", branch: "main" });
    await db.markScanRunning(first.id);
    await db.completeScan(first.id, result([finding("aaa"), finding("bbb", { severity: "error", rule: "session-used-after-close" }), finding("ccc", { suppressed: true })]));

    const afterFirst = await db.listFindings({ repositoryId: repository.id });
    expect(afterFirst.map((f) => [f.fingerprint, f.status]).sort()).toEqual([["aaa", "open"], ["bbb", "open"], ["ccc", "ignored"]]);
    expect(afterFirst.find((f) => f.fingerprint === "ccc")?.ignoredReason).toBe("suppressed in source");
    const scan = await db.getScan(first.id);
    expect(scan).toMatchObject({ status: "succeeded", findingsCount: 2, filesScanned: 4, countsBySeverity: { warning: 1, error: 1 } });

    const bbb = afterFirst.find((f) => f.fingerprint === "bbb")!;
    await db.setFindingStatus(bbb.id, { status: "ignored", reason: "false positive: closed by caller", actorUserId: user.id });
    await expect(db.setFindingStatus(bbb.id, { status: "ignored", reason: " ", actorUserId: user.id })).rejects.toThrow(/reason/);

    // Second scan: aaa moved (line shift), bbb still there (stays ignored), a new ddd.
    const second = await db.createScan({ repositoryId: repository.id, trigger: "schedule" });
    await db.completeScan(second.id, result([finding("aaa", { line: 14, end_line: 14 }), finding("bbb"), finding("ddd")]));
    let byFp = new Map((await db.listFindings({ repositoryId: repository.id })).map((f) => [f.fingerprint, f]));
    expect(byFp.get("aaa")).toMatchObject({ status: "open", line: 14, firstSeenScanId: first.id, lastSeenScanId: second.id });
    expect(byFp.get("bbb")).toMatchObject({ status: "ignored", ignoredReason: "false positive: closed by caller" });
    expect(byFp.get("ddd")).toMatchObject({ status: "open", firstSeenScanId: second.id });

    // A partial scan that reports only ddd closes nothing.
    const partial = await db.createScan({ repositoryId: repository.id, trigger: "pull_request", pullRequestNumber: 7 });
    await db.completeScan(partial.id, result([finding("ddd")]), { partial: true });
    expect(await db.countFindings({ repositoryId: repository.id, status: "open" })).toBe(2);

    // A full scan without aaa marks it fixed; when it comes back it reopens.
    const third = await db.createScan({ repositoryId: repository.id, trigger: "manual" });
    await db.completeScan(third.id, result([finding("bbb"), finding("ddd")]));
    byFp = new Map((await db.listFindings({ repositoryId: repository.id })).map((f) => [f.fingerprint, f]));
    expect(byFp.get("aaa")).toMatchObject({ status: "fixed", fixedInScanId: third.id });
    const fourth = await db.createScan({ repositoryId: repository.id, trigger: "manual" });
    await db.completeScan(fourth.id, result([finding("aaa"), finding("bbb"), finding("ddd")]));
    byFp = new Map((await db.listFindings({ repositoryId: repository.id })).map((f) => [f.fingerprint, f]));
    expect(byFp.get("aaa")).toMatchObject({ status: "open", fixedInScanId: null });

    const repositories = await db.listRepositories(organization.id);
    expect(repositories).toHaveLength(1);
    expect(repositories[0].openFindings).toEqual({ error: 0, warning: 2, info: 0 });
    expect(repositories[0].latestScan?.id).toBe(fourth.id);
    expect((await db.listScans(repository.id)).map((s) => s.id)).toHaveLength(5);
    const audit = await db.listAuditEvents(organization.id);
    expect(audit.map((e) => e.action)).toContain("finding.ignored");
  });

  it("keeps fingerprints unique per repository, not globally", async () => {
    const one = await workspace("gamma");
    const two = await workspace("delta");
    for (const { repository } of [one, two]) {
      const scan = await db.createScan({ repositoryId: repository.id, trigger: "cli" });
      await db.completeScan(scan.id, result([finding("same"), finding("same")]));
      expect(await db.countFindings({ repositoryId: repository.id })).toBe(1);
    }
  });

  it("recognises a replayed webhook delivery", async () => {
    expect(await db.recordWebhookDelivery({ deliveryId: "d-1", event: "push", installationId: 4242 })).toEqual({ duplicate: false });
    expect(await db.recordWebhookDelivery({ deliveryId: "d-1", event: "push" })).toEqual({ duplicate: true });
    await db.markWebhookDelivery("d-1", "processed");
  });

  it("stores fix pull requests with their findings, one per branch", async () => {
    const { repository } = await workspace("epsilon");
    const scan = await db.createScan({ repositoryId: repository.id, trigger: "cli" });
    await db.completeScan(scan.id, result([finding("f1"), finding("f2")]));
    const ids = (await db.listFindings({ repositoryId: repository.id })).map((f) => f.id);
    await db.upsertFixPullRequest({ repositoryId: repository.id, branch: "poolguard/fix-session-not-closed", title: "Close sessions", baseBranch: "main", bodyFingerprint: "h1", findingIds: ids });
    await db.upsertFixPullRequest({ repositoryId: repository.id, branch: "poolguard/fix-session-not-closed", title: "Close sessions", baseBranch: "main", bodyFingerprint: "h2", number: 12, findingIds: [ids[0]] });
    const prs = await db.listFixPullRequests(repository.id);
    expect(prs).toHaveLength(1);
    expect(prs[0]).toMatchObject({ number: 12, bodyFingerprint: "h2", state: "open", findingIds: [ids[0]] });
  });

  it("keeps repository settings with defaults", async () => {
    const { repository } = await workspace("zeta");
    expect(await db.getRepositorySettings(repository.id)).toMatchObject({ maxOpenFixPrs: 5, branchPrefix: "poolguard/", failOn: "warning", scheduleEnabled: false });
    await db.updateRepositorySettings(repository.id, { scheduleCron: "0 3 * * *", scheduleEnabled: true });
    expect(await db.getRepositorySettings(repository.id)).toMatchObject({ scheduleCron: "0 3 * * *", scheduleEnabled: true });
  });
});
