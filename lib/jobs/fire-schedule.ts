import { z } from "zod";
import { createScan, getRepository, getSchedule, latestSucceededScan } from "../db/index.ts";
import { sourceFor } from "../scan/sources.ts";
import type { JobContext } from "./context.ts";
import { slotAtOrBefore } from "./cron.ts";
import { jobNames } from "./policy.ts";
import { requestScan } from "./request-scan.ts";

// Job: a repository's schedule came due. Queue a scan of the default branch, or record
// the run as skipped when the branch head has not moved since the last successful scan.

export const name = jobNames.fireSchedule;

export const payloadSchema = z.object({
  repositoryId: z.string().min(1),
  /** The slot this run belongs to (ISO time); derived from the cron when absent. */
  dueAt: z.string().datetime().optional(),
});
export type FireSchedulePayload = z.infer<typeof payloadSchema>;

/** One scan per repository and slot, whichever instance or retry gets there. */
export function idempotencyKey(payload: { repositoryId: string; dueAt: string }): string {
  return `schedule-${payload.repositoryId}-${payload.dueAt}`;
}

export type FireScheduleResult =
  | { kind: "queued"; scanId: string }
  | { kind: "skipped"; scanId: string }
  /** A scan of this commit is already waiting: that one will do. */
  | { kind: "already-queued"; scanId: string }
  /** This slot was handled already (by another instance or an earlier try). */
  | { kind: "duplicate" }
  | { kind: "gone" };

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "P2002";
}

export async function handle(raw: unknown, ctx: Pick<JobContext, "dispatcher" | "log">): Promise<FireScheduleResult> {
  const payload = payloadSchema.parse(raw);
  const repository = await getRepository(payload.repositoryId);
  if (!repository || repository.archived) return { kind: "gone" };
  const schedule = await getSchedule(repository.id);
  const dueAt = payload.dueAt ?? (schedule.cron ? slotAtOrBefore(schedule.cron).toISOString() : new Date().toISOString());
  const key = idempotencyKey({ repositoryId: repository.id, dueAt });

  let head: string | null = null;
  try {
    head = await (await sourceFor(repository)).headCommit(repository.defaultBranch);
  } catch (error) {
    // Not knowing the head is no reason to skip: the scan itself reports what is wrong.
    ctx.log.info("schedule: head commit unknown", { repositoryId: repository.id, error: (error as Error).message });
  }
  const last = head ? await latestSucceededScan(repository.id) : null;
  if (head && last?.commitSha === head) {
    try {
      const scan = await createScan({ repositoryId: repository.id, trigger: "schedule", status: "skipped", commitSha: head, branch: repository.defaultBranch, idempotencyKey: key });
      ctx.log.info("schedule: skipped, head has not moved", { repositoryId: repository.id, scanId: scan.id, commitSha: head, dueAt });
      return { kind: "skipped", scanId: scan.id };
    } catch (error) {
      if (isUniqueViolation(error)) {
        ctx.log.info("schedule: slot already handled", { repositoryId: repository.id, dueAt });
        return { kind: "duplicate" };
      }
      throw error;
    }
  }
  const { scan, created } = await requestScan(ctx.dispatcher, {
    repositoryId: repository.id,
    trigger: "schedule",
    branch: repository.defaultBranch,
    commitSha: head,
    idempotencyKey: key,
  });
  if (!created && scan.idempotencyKey === key) {
    ctx.log.info("schedule: slot already handled", { repositoryId: repository.id, dueAt });
    return { kind: "duplicate" };
  }
  if (!created) {
    ctx.log.info("schedule: a scan of this commit is already queued", { repositoryId: repository.id, scanId: scan.id, dueAt });
    return { kind: "already-queued", scanId: scan.id };
  }
  ctx.log.info("schedule: scan queued", { repositoryId: repository.id, scanId: scan.id, dueAt });
  return { kind: "queued", scanId: scan.id };
}
