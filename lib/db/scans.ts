import type { ScanResult } from "../analyzer/types.ts";
import { db } from "./client.ts";
import { parseJson, type ScanStatus, type ScanTrigger } from "./types.ts";

// The scan row is the durable state of a scan job on every transport. A runner claims
// a queued scan with a conditional update, renews a lease while it works and finishes
// only while it still holds that lease, so two runners can never both complete a scan.

/** A runner may start a scan this many times; a scan interrupted after that fails. */
export const maxScanAttempts = 2;

export class LeaseLostError extends Error {
  constructor(scanId: string) {
    super(`scan ${scanId} is no longer held by this runner`);
    this.name = "LeaseLostError";
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "P2002";
}

export function scanQueueKey(repositoryId: string, commitSha?: string | null): string {
  return `${repositoryId}:${commitSha || "HEAD"}`;
}

export async function createScan(input: {
  repositoryId: string;
  trigger: ScanTrigger;
  branch?: string | null;
  commitSha?: string | null;
  pullRequestNumber?: number | null;
  status?: ScanStatus;
  error?: string | null;
  idempotencyKey?: string | null;
}) {
  const finished = input.status === "skipped" || input.status === "failed" || input.status === "cancelled";
  return db().scan.create({
    data: {
      repositoryId: input.repositoryId,
      trigger: input.trigger,
      branch: input.branch ?? null,
      commitSha: input.commitSha ?? null,
      pullRequestNumber: input.pullRequestNumber ?? null,
      status: input.status ?? "queued",
      error: input.error ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      finishedAt: finished ? new Date() : null,
    },
  });
}

/**
 * Queue a scan unless the same one is already waiting: a queued scan for the same
 * repository and commit, or a scan created under the same idempotency key, is returned
 * instead (`created: false`). Both checks are unique indexes, so concurrent callers on
 * any number of instances agree.
 */
export async function enqueueScan(input: {
  repositoryId: string;
  trigger: ScanTrigger;
  branch?: string | null;
  commitSha?: string | null;
  pullRequestNumber?: number | null;
  idempotencyKey?: string | null;
  /** The API request or webhook delivery that asked for it, for the worker's log lines. */
  requestId?: string | null;
}) {
  const queueKey = scanQueueKey(input.repositoryId, input.commitSha);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const scan = await db().scan.create({
        data: {
          repositoryId: input.repositoryId,
          trigger: input.trigger,
          branch: input.branch ?? null,
          commitSha: input.commitSha ?? null,
          pullRequestNumber: input.pullRequestNumber ?? null,
          idempotencyKey: input.idempotencyKey ?? null,
          requestId: input.requestId ?? null,
          queueKey,
        },
      });
      return { scan: present(scan), created: true as boolean };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const existing =
        (input.idempotencyKey ? await db().scan.findUnique({ where: { idempotencyKey: input.idempotencyKey } }) : null) ??
        (await db().scan.findUnique({ where: { queueKey } }));
      if (existing) return { scan: present(existing), created: false };
      // The queued scan was claimed between our insert and the lookup: try again.
    }
  }
  throw new Error(`could not queue a scan for repository ${input.repositoryId}`);
}

/** Queued scans, oldest first, of repositories with no running scan. */
export async function listQueuedScans(take = 20, now = new Date()) {
  const rows = await db().scan.findMany({
    where: {
      status: "queued",
      OR: [{ runAfter: null }, { runAfter: { lte: now } }],
      repository: { scans: { none: { status: "running" } } },
    },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take,
    select: { id: true, repositoryId: true, createdAt: true, attempts: true },
  });
  return rows;
}

export type ClaimResult = "claimed" | "busy" | "gone";

/**
 * Take a queued scan: queued -> running with this runner's lease. "busy" when the
 * repository already has a running scan (the unique running key refuses a second),
 * "gone" when another runner took it or it was cancelled.
 */
export async function claimScan(id: string, owner: string, leaseMs: number): Promise<ClaimResult> {
  const scan = await db().scan.findUnique({ where: { id }, select: { repositoryId: true, status: true } });
  if (!scan || scan.status !== "queued") return "gone";
  try {
    const now = new Date();
    const claimed = await db().scan.updateMany({
      where: { id, status: "queued" },
      data: {
        status: "running",
        leaseOwner: owner,
        leaseExpiresAt: new Date(now.getTime() + leaseMs),
        attempts: { increment: 1 },
        queueKey: null,
        runningKey: scan.repositoryId,
        startedAt: now,
        runAfter: null,
        error: null,
      },
    });
    return claimed.count === 1 ? "claimed" : "gone";
  } catch (error) {
    if (isUniqueViolation(error)) return "busy";
    throw error;
  }
}

/** Extend the lease; tells the runner whether it still holds it and whether to stop. */
export async function renewScanLease(id: string, owner: string, leaseMs: number): Promise<{ held: boolean; cancelRequested: boolean }> {
  const renewed = await db().scan.updateMany({
    where: { id, status: "running", leaseOwner: owner },
    data: { leaseExpiresAt: new Date(Date.now() + leaseMs) },
  });
  if (renewed.count === 0) return { held: false, cancelRequested: false };
  const scan = await db().scan.findUnique({ where: { id }, select: { cancelRequestedAt: true } });
  return { held: true, cancelRequested: Boolean(scan?.cancelRequestedAt) };
}

/**
 * Scans whose runner stopped renewing its lease (the process died): re-queued once,
 * failed with the reason after that. Safe to run from every instance at once: each
 * change is conditional on the lease still being expired.
 */
export async function recoverExpiredScans(now = new Date()): Promise<{ requeued: string[]; failed: string[] }> {
  const expired = await db().scan.findMany({
    where: { status: "running", leaseExpiresAt: { lt: now } },
    select: { id: true, attempts: true, cancelRequestedAt: true },
  });
  const requeued: string[] = [];
  const failed: string[] = [];
  for (const scan of expired) {
    const where = { id: scan.id, status: "running", leaseExpiresAt: { lt: now } };
    if (scan.cancelRequestedAt) {
      const done = await db().scan.updateMany({
        where,
        data: { status: "cancelled", runningKey: null, leaseOwner: null, leaseExpiresAt: null, finishedAt: now, error: "cancelled" },
      });
      if (done.count === 1) failed.push(scan.id);
      continue;
    }
    if (scan.attempts >= maxScanAttempts) {
      const done = await db().scan.updateMany({
        where,
        data: {
          status: "failed",
          runningKey: null,
          leaseOwner: null,
          leaseExpiresAt: null,
          finishedAt: now,
          error: `the scan was interrupted ${scan.attempts} times (its worker stopped while scanning); giving up`,
        },
      });
      if (done.count === 1) failed.push(scan.id);
      continue;
    }
    const done = await db().scan.updateMany({
      where,
      data: { status: "queued", runningKey: null, leaseOwner: null, leaseExpiresAt: null, filesDone: 0, error: "re-queued after its worker stopped" },
    });
    if (done.count === 1) requeued.push(scan.id);
  }
  return { requeued, failed };
}

/** Put a scan this runner holds back in the queue, to run again after `runAfter`. */
export async function requeueScan(id: string, owner: string, runAfter: Date, error: string, { refundAttempt = false } = {}): Promise<boolean> {
  const done = await db().scan.updateMany({
    where: { id, status: "running", leaseOwner: owner },
    data: {
      status: "queued",
      runningKey: null,
      leaseOwner: null,
      leaseExpiresAt: null,
      filesDone: 0,
      runAfter,
      error,
      ...(refundAttempt ? { attempts: { decrement: 1 } } : {}),
    },
  });
  return done.count === 1;
}

/**
 * A scan whose results arrive from outside (a CLI upload): created running under the
 * uploader's own lease, then completed with completeScan(..., { owner }).
 */
export async function startUploadedScan(input: { repositoryId: string; owner: string; commitSha?: string | null; branch?: string | null }) {
  const now = new Date();
  return db().scan.create({
    data: {
      repositoryId: input.repositoryId,
      trigger: "cli",
      status: "running",
      commitSha: input.commitSha ?? null,
      branch: input.branch ?? null,
      leaseOwner: input.owner,
      // Long enough to store any upload; should the server die meanwhile, recovery
      // re-queues it as an ordinary scan of the repository.
      leaseExpiresAt: new Date(now.getTime() + 10 * 60_000),
      attempts: 1,
      startedAt: now,
    },
  });
}

export async function markScanRunning(id: string) {
  return db().scan.update({ where: { id }, data: { status: "running", startedAt: new Date(), queueKey: null } });
}

export async function updateScanProgress(id: string, progress: { filesDone: number; filesTotal: number }, owner?: string) {
  await db().scan.updateMany({ where: { id, status: "running", ...(owner ? { leaseOwner: owner } : {}) }, data: progress });
}

export async function setScanCommit(id: string, owner: string, commit: { commitSha: string | null; branch?: string | null }) {
  await db().scan.updateMany({
    where: { id, status: "running", leaseOwner: owner },
    data: { commitSha: commit.commitSha, ...(commit.branch ? { branch: commit.branch } : {}) },
  });
}

const endState = { runningKey: null, queueKey: null, leaseOwner: null, leaseExpiresAt: null };

/** End a scan without findings (failed, cancelled, skipped). Only the lease holder may. */
export async function finishScanWithout(
  id: string,
  outcome: { status: "failed" | "cancelled" | "skipped"; error?: string | null; commitSha?: string | null },
  owner?: string,
): Promise<boolean> {
  const done = await db().scan.updateMany({
    where: owner ? { id, status: "running", leaseOwner: owner } : { id, status: { in: ["queued", "running"] } },
    data: {
      ...endState,
      status: outcome.status,
      error: outcome.error ?? null,
      finishedAt: new Date(),
      ...(outcome.commitSha ? { commitSha: outcome.commitSha } : {}),
    },
  });
  return done.count === 1;
}

export async function failScan(id: string, error: string) {
  await finishScanWithout(id, { status: "failed", error });
  return getScan(id);
}

/**
 * Cancel a scan: a queued one ends at once; a running one is flagged and its runner
 * stops at its next lease renewal. Returns the scan as it is now.
 */
export async function requestScanCancel(id: string) {
  const now = new Date();
  await db().scan.updateMany({ where: { id, status: "queued" }, data: { ...endState, status: "cancelled", error: "cancelled", finishedAt: now } });
  await db().scan.updateMany({ where: { id, status: "running", cancelRequestedAt: null }, data: { cancelRequestedAt: now } });
  return getScan(id);
}

type ExistingFinding = Awaited<ReturnType<ReturnType<typeof db>["finding"]["findMany"]>>[number];

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Store a finished scan and reconcile the repository's findings by fingerprint, in one
 * transaction: new -> open; seen again -> location refreshed (ignored stays ignored,
 * fixed reopens); open but absent from a full scan -> fixed by this scan. A partial scan
 * (only some paths reported) never closes findings it did not look at. Suppressed-in-
 * source findings are kept as ignored, so the dashboard shows them without counting
 * them as open. With `owner`, the scan must still be running under that runner's lease
 * (else LeaseLostError and nothing is written): a scan completes exactly once.
 */
export async function completeScan(
  id: string,
  result: ScanResult,
  {
    partial = false,
    snippets,
    contexts,
    owner,
    commitSha,
  }: {
    partial?: boolean;
    /** fingerprint -> source text of the flagged lines */
    snippets?: Map<string, string>;
    /** fingerprint -> the bounded code around the finding; absent (uploads): stored contexts are kept */
    contexts?: Map<string, { startLine: number; text: string }>;
    owner?: string;
    commitSha?: string | null;
  } = {},
) {
  const countsByRule: Record<string, number> = {};
  const countsBySeverity: Record<string, number> = {};
  const active = result.findings.filter((f) => !f.suppressed);
  for (const f of active) {
    countsByRule[f.rule] = (countsByRule[f.rule] ?? 0) + 1;
    countsBySeverity[f.severity] = (countsBySeverity[f.severity] ?? 0) + 1;
  }
  return db().$transaction(
    async (tx) => {
      // Write first: on SQLite this takes the write lock before any read, so a
      // concurrent writer waits instead of failing with "database is locked"; on
      // PostgreSQL the row lock serialises two runners racing for the same scan.
      const finishedAt = new Date();
      const owned = await tx.scan.updateMany({
        where: owner ? { id, status: "running", leaseOwner: owner } : { id, status: { in: ["queued", "running"] } },
        data: { ...endState, status: "succeeded", finishedAt, ...(commitSha ? { commitSha } : {}) },
      });
      if (owned.count !== 1) throw new LeaseLostError(id);
      const scan = await tx.scan.findUniqueOrThrow({ where: { id } });
      const existing = await tx.finding.findMany({ where: { repositoryId: scan.repositoryId } });
      const byFingerprint = new Map<string, ExistingFinding>(existing.map((f) => [f.fingerprint, f]));
      const seen = new Set<string>();
      const toCreate = [];
      for (const f of result.findings) {
        if (seen.has(f.fingerprint)) continue;
        seen.add(f.fingerprint);
        const location = {
          rule: f.rule,
          severity: f.severity,
          message: f.message,
          path: f.path,
          line: f.line,
          column: f.column,
          endLine: f.end_line,
          endColumn: f.end_column,
          snippet: snippets?.get(f.fingerprint) ?? "",
          ...(contexts ? { context: contexts.get(f.fingerprint)?.text ?? null, contextStartLine: contexts.get(f.fingerprint)?.startLine ?? null } : {}),
          fix: f.fix ? JSON.stringify(f.fix) : null,
          fixSafety: f.fix?.safety ?? null,
          lastSeenScanId: id,
        };
        const previous = byFingerprint.get(f.fingerprint);
        if (!previous) {
          toCreate.push({
            ...location,
            repositoryId: scan.repositoryId,
            fingerprint: f.fingerprint,
            firstSeenScanId: id,
            status: f.suppressed ? "ignored" : "open",
            ignoredReason: f.suppressed ? "suppressed in source" : null,
          });
          continue;
        }
        const status = f.suppressed ? "ignored" : previous.status === "fixed" ? "open" : previous.status;
        await tx.finding.update({
          where: { id: previous.id },
          data: {
            ...location,
            status,
            ignoredReason: f.suppressed ? "suppressed in source" : status === "ignored" ? previous.ignoredReason : null,
            fixedInScanId: status === "open" ? null : previous.fixedInScanId,
          },
        });
      }
      for (const batch of chunks(toCreate, 500)) await tx.finding.createMany({ data: batch });
      if (!partial) {
        const vanished = existing.filter((f) => f.status === "open" && !seen.has(f.fingerprint)).map((f) => f.id);
        for (const batch of chunks(vanished, 500)) {
          await tx.finding.updateMany({ where: { id: { in: batch } }, data: { status: "fixed", fixedInScanId: id } });
        }
      }
      return tx.scan.update({
        where: { id },
        data: {
          filesScanned: result.files_scanned,
          filesDone: result.files_scanned,
          filesTotal: Math.max(scan.filesTotal, result.files_scanned),
          findingsCount: active.length,
          countsByRule: JSON.stringify(countsByRule),
          countsBySeverity: JSON.stringify(countsBySeverity),
          durationMs: Math.round(result.duration_ms),
          error: result.errors.length > 0 ? `${result.errors.length} file(s) could not be analysed` : null,
        },
      });
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}

function present<T extends { countsByRule: string; countsBySeverity: string; status: string; trigger: string }>(scan: T) {
  return {
    ...scan,
    status: scan.status as ScanStatus,
    trigger: scan.trigger as ScanTrigger,
    countsByRule: parseJson<Record<string, number>>(scan.countsByRule, {}),
    countsBySeverity: parseJson<Record<string, number>>(scan.countsBySeverity, {}),
  };
}

export async function getScan(id: string) {
  const scan = await db().scan.findUnique({ where: { id } });
  return scan ? present(scan) : null;
}

export async function getScanWithRepository(id: string) {
  const scan = await db().scan.findUnique({ where: { id }, include: { repository: true } });
  return scan ? { ...present(scan), repository: scan.repository } : null;
}

export async function listScans(repositoryId: string, { take = 20, cursor }: { take?: number; cursor?: string } = {}) {
  const scans = await db().scan.findMany({
    where: { repositoryId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
  });
  return scans.map(present);
}

/** The latest successful full scan of a repository (for "has the head moved?"). */
export async function latestSucceededScan(repositoryId: string) {
  const scan = await db().scan.findFirst({
    where: { repositoryId, status: "succeeded", pullRequestNumber: null },
    orderBy: [{ finishedAt: "desc" }, { id: "desc" }],
  });
  return scan ? present(scan) : null;
}

export async function countScans(where: { repositoryId?: string; status?: ScanStatus } = {}) {
  return db().scan.count({ where });
}
