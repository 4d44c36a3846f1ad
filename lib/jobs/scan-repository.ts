import { z } from "zod";
import { claimScan, finishScanWithout, getScan, recoverExpiredScans, requeueScan } from "../db/index.ts";
import { withStoredRequestId } from "../log.ts";
import { runClaimedScan, scanTimeLimitMs } from "../scan/service.ts";
import type { JobContext } from "./context.ts";
import { backoffMs, jobNames, retryPolicy } from "./policy.ts";

// Job: run one queued scan. The payload is only the scan id: the scan row holds
// everything else and is the job's durable state.

export const name = jobNames.scanRepository;

export const payloadSchema = z.object({ scanId: z.string().min(1) });
export type ScanRepositoryPayload = z.infer<typeof payloadSchema>;

/** One job per scan and start attempt: re-dispatching the same attempt is a no-op. */
export function idempotencyKey(payload: ScanRepositoryPayload, attempts: number): string {
  return `scan-${payload.scanId}-a${attempts}`;
}

export type ScanJobResult =
  | { kind: "done"; status: string }
  /** Another scan of the repository is running: try again later. */
  | { kind: "busy" }
  /** Another runner holds this scan's lease until `until` (it may have died). */
  | { kind: "held"; until: Date }
  /** Nothing to do: already finished, cancelled or taken. */
  | { kind: "gone" };

export async function handle(raw: unknown, ctx: JobContext): Promise<ScanJobResult> {
  const { scanId } = payloadSchema.parse(raw);
  // A scan whose runner died is re-queued (or failed) first, wherever that is noticed.
  await recoverExpiredScans();
  const claim = await claimScan(scanId, ctx.owner, ctx.leaseMs);
  if (claim === "busy") return { kind: "busy" };
  if (claim === "gone") {
    const scan = await getScan(scanId);
    if (scan?.status === "running" && scan.leaseExpiresAt && scan.leaseOwner !== ctx.owner) return { kind: "held", until: scan.leaseExpiresAt };
    return { kind: "gone" };
  }
  // A scan asked for by an API request or a webhook delivery: its lines carry that request's id.
  const requestId = (await getScan(scanId))?.requestId;
  return withStoredRequestId(requestId, () => runScan(scanId, ctx));
}

async function runScan(scanId: string, ctx: JobContext): Promise<ScanJobResult> {
  ctx.log.info("scan started", { scanId });
  const outcome = await runClaimedScan(scanId, {
    owner: ctx.owner,
    leaseMs: ctx.leaseMs,
    heartbeatMs: ctx.heartbeatMs,
    timeLimitMs: scanTimeLimitMs(),
    jobs: ctx.analyzerJobs,
    signal: ctx.signal,
  });
  switch (outcome.status) {
    case "succeeded":
      ctx.log.info("scan completed", { scanId, findings: outcome.findingsCount, files: outcome.filesScanned });
      return { kind: "done", status: "succeeded" };
    case "cancelled":
      await finishScanWithout(scanId, { status: "cancelled", error: "cancelled" }, ctx.owner);
      ctx.log.info("scan cancelled", { scanId });
      return { kind: "done", status: "cancelled" };
    case "failed":
      await finishScanWithout(scanId, { status: "failed", error: outcome.error }, ctx.owner);
      ctx.log.error("scan failed", { scanId, error: outcome.error });
      return { kind: "done", status: "failed" };
    case "retryable": {
      const scan = await getScan(scanId);
      const attempts = scan?.attempts ?? retryPolicy.attempts;
      if (attempts >= retryPolicy.attempts) {
        await finishScanWithout(scanId, { status: "failed", error: `${outcome.error} (tried ${attempts} times)` }, ctx.owner);
        ctx.log.error("scan failed", { scanId, error: outcome.error, attempts });
        return { kind: "done", status: "failed" };
      }
      const delay = backoffMs(attempts);
      if (await requeueScan(scanId, ctx.owner, new Date(Date.now() + delay), outcome.error)) {
        await ctx.dispatcher.dispatchScan(scanId, attempts, delay);
        ctx.log.info("scan will be retried", { scanId, delayMs: delay, error: outcome.error });
      }
      return { kind: "done", status: "queued" };
    }
    case "interrupted":
      // Shutting down: hand the scan back at once, without counting this start.
      if (await requeueScan(scanId, ctx.owner, new Date(), "re-queued: its worker was shut down", { refundAttempt: true })) {
        await ctx.dispatcher.dispatchScan(scanId, Math.max(0, (await getScan(scanId))?.attempts ?? 0));
      }
      return { kind: "done", status: "queued" };
    case "lost":
      ctx.log.info("scan lease lost; another runner has it", { scanId });
      return { kind: "gone" };
  }
}
