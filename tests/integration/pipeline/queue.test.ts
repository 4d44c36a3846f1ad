import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ScanResult } from "../../../lib/analyzer/types.ts";
import { useFreshDatabase } from "../db/fresh-database.ts";

// The database-level guarantees both transports rest on: one queued scan per
// repository and commit, one running scan per repository, one completion per scan,
// re-queue once after a crash then fail, one firing per schedule slot.

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");

beforeAll(async () => {
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
});
afterAll(async () => {
  await db.disconnectDatabase();
  await database.drop();
});

async function repository(name: string) {
  const user = await db.createUser({ email: `${name}@example.test`, name });
  const organization = await db.createOrganization({ slug: name, name, ownerUserId: user.id });
  return db.createRepository({ organizationId: organization.id, provider: "local", name, localPath: "/nowhere" });
}

const result = (fingerprints: string[]): ScanResult => ({
  tool: { name: "poolguard", version: "test" },
  root: "/r",
  files_scanned: 1,
  duration_ms: 1,
  errors: [],
  findings: fingerprints.map((fingerprint) => ({
    rule: "session-not-closed",
    severity: "warning",
    message: "m",
    path: "a.py",
    line: 1,
    column: 1,
    end_line: 1,
    end_column: 2,
    fingerprint,
    suppressed: false,
    fix: null,
  })),
});

describe("scan queue in the database", () => {
  it("does not queue the same repository and commit twice, and honours idempotency keys", async () => {
    const repo = await repository("dedupe");
    const attempts = await Promise.all([1, 2, 3, 4].map(() => db.enqueueScan({ repositoryId: repo.id, trigger: "manual", commitSha: "abc1234" })));
    expect(new Set(attempts.map((a) => a.scan.id)).size).toBe(1);
    expect(attempts.filter((a) => a.created)).toHaveLength(1);
    const other = await db.enqueueScan({ repositoryId: repo.id, trigger: "manual", commitSha: "def5678" });
    expect(other.created).toBe(true);
    const keyed = await db.enqueueScan({ repositoryId: repo.id, trigger: "manual", idempotencyKey: "k-1" });
    // Once claimed (no longer queued) the same idempotency key still returns that scan.
    expect(await db.claimScan(keyed.scan.id, "runner-a", 60_000)).toBe("claimed");
    const again = await db.enqueueScan({ repositoryId: repo.id, trigger: "manual", commitSha: "fff0000", idempotencyKey: "k-1" });
    expect(again).toMatchObject({ created: false, scan: { id: keyed.scan.id } });
    expect(await db.countScans({ repositoryId: repo.id })).toBe(3);
  });

  it("runs at most one scan per repository and lets only the lease holder complete it", async () => {
    const repo = await repository("single");
    const first = await db.enqueueScan({ repositoryId: repo.id, trigger: "manual", commitSha: "1111111" });
    const second = await db.enqueueScan({ repositoryId: repo.id, trigger: "manual", commitSha: "2222222" });
    const claims = await Promise.all([db.claimScan(first.scan.id, "a", 60_000), db.claimScan(first.scan.id, "b", 60_000)]);
    expect(claims.sort()).toEqual(["claimed", "gone"]);
    const holder = (await db.getScan(first.scan.id))?.leaseOwner as string;
    expect(await db.claimScan(second.scan.id, "c", 60_000)).toBe("busy");
    expect((await db.listQueuedScans()).map((s) => s.id)).not.toContain(second.scan.id);

    const intruder = holder === "a" ? "b" : "a";
    await expect(db.completeScan(first.scan.id, result(["x", "y"]), { owner: intruder })).rejects.toThrow(db.LeaseLostError);
    expect(await db.countFindings({ repositoryId: repo.id })).toBe(0);
    await db.completeScan(first.scan.id, result(["x", "y"]), { owner: holder });
    await expect(db.completeScan(first.scan.id, result(["x", "y", "z"]), { owner: holder })).rejects.toThrow(db.LeaseLostError);
    expect(await db.countFindings({ repositoryId: repo.id })).toBe(2);
    expect(await db.getScan(first.scan.id)).toMatchObject({ status: "succeeded", findingsCount: 2, runningKey: null, leaseOwner: null });
    expect(await db.claimScan(second.scan.id, "c", 60_000)).toBe("claimed");
  });

  it("re-queues a scan whose runner died once, then fails it with the reason", async () => {
    const repo = await repository("crash");
    const { scan } = await db.enqueueScan({ repositoryId: repo.id, trigger: "manual" });
    expect(await db.claimScan(scan.id, "dies-1", 1)).toBe("claimed");
    await new Promise((r) => setTimeout(r, 20));
    expect(await db.recoverExpiredScans()).toEqual({ requeued: [scan.id], failed: [] });
    expect(await db.getScan(scan.id)).toMatchObject({ status: "queued", attempts: 1, leaseOwner: null });
    expect(await db.claimScan(scan.id, "dies-2", 1)).toBe("claimed");
    await new Promise((r) => setTimeout(r, 20));
    expect(await db.recoverExpiredScans()).toEqual({ requeued: [], failed: [scan.id] });
    const failed = await db.getScan(scan.id);
    expect(failed).toMatchObject({ status: "failed", attempts: 2, runningKey: null });
    expect(failed?.error).toMatch(/interrupted 2 times/);
    // A live lease is left alone.
    const live = await db.enqueueScan({ repositoryId: repo.id, trigger: "manual", commitSha: "aaaaaaa" });
    await db.claimScan(live.scan.id, "alive", 60_000);
    expect(await db.recoverExpiredScans()).toEqual({ requeued: [], failed: [] });
    expect((await db.renewScanLease(live.scan.id, "alive", 60_000)).held).toBe(true);
    expect((await db.renewScanLease(live.scan.id, "someone-else", 60_000)).held).toBe(false);
  });

  it("cancels a queued scan at once and flags a running one", async () => {
    const repo = await repository("cancel");
    const queued = await db.enqueueScan({ repositoryId: repo.id, trigger: "manual", commitSha: "aaaaaaa" });
    expect(await db.requestScanCancel(queued.scan.id)).toMatchObject({ status: "cancelled", queueKey: null });
    const running = await db.enqueueScan({ repositoryId: repo.id, trigger: "manual", commitSha: "bbbbbbb" });
    await db.claimScan(running.scan.id, "r", 60_000);
    await db.requestScanCancel(running.scan.id);
    expect(await db.renewScanLease(running.scan.id, "r", 60_000)).toEqual({ held: true, cancelRequested: true });
  });

  it("lets one of many instances claim a schedule run", async () => {
    const repo = await repository("schedule");
    const due = new Date(Date.now() - 1000);
    await db.saveSchedule(repo.id, { cron: "0 3 * * *", enabled: true, nextRunAt: due });
    expect((await db.listDueSchedules()).map((s) => s.repositoryId)).toContain(repo.id);
    const next = new Date(Date.now() + 86_400_000);
    const claims = await Promise.all([1, 2, 3, 4, 5].map(() => db.claimScheduleRun(repo.id, due, next)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await db.listDueSchedules()).map((s) => s.repositoryId)).not.toContain(repo.id);
  });
});
