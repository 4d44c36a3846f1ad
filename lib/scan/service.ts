import { parseConfig } from "../analyzer/config/load-config.ts";
import { listRules } from "../analyzer/rules.ts";
import type { PoolguardConfig, RuleId } from "../analyzer/types.ts";
import { completeScan, getRepositorySettings, getScanWithRepository, LeaseLostError, renewScanLease, setScanCommit, updateScanProgress } from "../db/index.ts";
import { analyzeInChild, ScanStoppedError } from "./analyzer-process.ts";
import { type Snapshot, SnapshotFetchError, SnapshotRefusedError } from "./snapshot.ts";
import { sourceFor } from "./sources.ts";

// One scan, start to finish, for a runner that has claimed it (lib/db claimScan):
// snapshot -> analyzer (child process) -> findings reconciled in one transaction.
// While it works it renews its lease; losing the lease or a cancel request stops the
// analyzer. Temporary files are removed in every case.

type Env = Record<string, string | undefined>;

export type ScanRunOptions = {
  owner: string;
  leaseMs: number;
  /** How often the lease is renewed and cancel requests are noticed. */
  heartbeatMs: number;
  timeLimitMs: number;
  /** Analysis processes per scan (default: the analyzer's own choice, one per core). */
  jobs?: number;
  /** Stops the scan from outside (runner shutting down). */
  signal?: AbortSignal;
};

export type ScanOutcome =
  | { status: "succeeded"; findingsCount: number; filesScanned: number }
  | { status: "cancelled" }
  | { status: "failed"; error: string }
  /** Transient (fetching the snapshot failed): the job layer decides whether to retry. */
  | { status: "retryable"; error: string }
  /** Another runner holds the scan now (our lease ran out): write nothing. */
  | { status: "lost" }
  /** The runner is shutting down: the scan is left for recovery to re-queue. */
  | { status: "interrupted" };

export function scanTimeLimitMs(env: Env = process.env): number {
  const value = Number(env.POOLGUARD_SCAN_TIME_LIMIT_SECONDS);
  return Number.isFinite(value) && value > 0 ? value * 1000 : 30 * 60 * 1000;
}

export async function runClaimedScan(scanId: string, options: ScanRunOptions): Promise<ScanOutcome> {
  const scan = await getScanWithRepository(scanId);
  if (!scan || scan.status !== "running" || scan.leaseOwner !== options.owner) return { status: "lost" };

  const controller = new AbortController();
  let stopReason: "cancelled" | "lost" | "interrupted" | null = null;
  const stopWith = (reason: "cancelled" | "lost" | "interrupted") => {
    stopReason ??= reason;
    controller.abort();
  };
  const onOuterAbort = () => stopWith("interrupted");
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (options.signal?.aborted) stopWith("interrupted");
  if (scan.cancelRequestedAt) stopWith("cancelled");

  let renewing = false;
  const heartbeat = setInterval(async () => {
    if (renewing) return;
    renewing = true;
    try {
      const lease = await renewScanLease(scanId, options.owner, options.leaseMs);
      if (!lease.held) stopWith("lost");
      else if (lease.cancelRequested) stopWith("cancelled");
    } catch {
      // The database is briefly unreachable: the next beat tries again; if the lease
      // runs out meanwhile, completing will fail and nothing is written.
    } finally {
      renewing = false;
    }
  }, options.heartbeatMs);

  let lastProgressWrite = 0;
  let pendingProgress: { filesDone: number; filesTotal: number } | null = null;
  const onProgress = (progress: { filesDone: number; filesTotal: number }) => {
    pendingProgress = progress;
    const now = Date.now();
    if (now - lastProgressWrite < 500 && progress.filesDone !== progress.filesTotal) return;
    lastProgressWrite = now;
    pendingProgress = null;
    updateScanProgress(scanId, progress, options.owner).catch(() => {});
  };

  let snapshot: Snapshot | null = null;
  const stopped = (): ScanOutcome => {
    if (stopReason === "lost") return { status: "lost" };
    if (stopReason === "interrupted") return { status: "interrupted" };
    return { status: "cancelled" };
  };
  try {
    const source = await sourceFor(scan.repository);
    snapshot = await source.materialize({ branch: scan.branch ?? scan.repository.defaultBranch, commitSha: scan.commitSha, signal: controller.signal });
    if (controller.signal.aborted) return stopped();
    await setScanCommit(scanId, options.owner, { commitSha: snapshot.commitSha ?? scan.commitSha });
    // A configuration saved in the dashboard replaces the repository's own poolguard.yml
    // (it was validated when saved; a bad one fails the scan with its file, key and line).
    const override = (await getRepositorySettings(scan.repository.id)).configYaml;
    const config: PoolguardConfig | undefined = override?.trim()
      ? parseConfig(
          override,
          "poolguard.yml (dashboard)",
          listRules().map((r) => r.id as RuleId),
        )
      : undefined;
    const run = await analyzeInChild({ root: snapshot.root, jobs: options.jobs, config, timeLimitMs: options.timeLimitMs, signal: controller.signal, onProgress });
    if (pendingProgress) await updateScanProgress(scanId, pendingProgress, options.owner);
    if (controller.signal.aborted) return stopped();
    const stored = await completeScan(scanId, run.result, { owner: options.owner, snippets: run.snippets, contexts: run.contexts, commitSha: snapshot.commitSha ?? scan.commitSha });
    return { status: "succeeded", findingsCount: stored.findingsCount, filesScanned: stored.filesScanned };
  } catch (error) {
    if (error instanceof LeaseLostError) return { status: "lost" };
    if (error instanceof ScanStoppedError && error.reason === "cancelled") return stopped();
    if (controller.signal.aborted) return stopped();
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SnapshotFetchError) return { status: "retryable", error: message };
    if (error instanceof ScanStoppedError || error instanceof SnapshotRefusedError) return { status: "failed", error: message };
    return { status: "failed", error: message };
  } finally {
    clearInterval(heartbeat);
    options.signal?.removeEventListener("abort", onOuterAbort);
    await snapshot?.dispose();
  }
}
