import { getSchedule, saveSchedule, type StoredSchedule } from "../db/index.ts";
import { defaultCron, describeCron, nextRun, nextRuns, validateCron } from "./cron.ts";
import { transportKind } from "./policy.ts";

export type ScheduleView = { cron: string; enabled: boolean; description: string; nextRuns: string[]; lastRunAt: string | null };

export function viewSchedule(repositoryId: string, stored: StoredSchedule): ScheduleView {
  const cron = stored.cron ?? defaultCron(repositoryId);
  return {
    cron,
    enabled: stored.enabled,
    description: describeCron(cron),
    nextRuns: stored.enabled ? nextRuns(cron, 3).map((d) => d.toISOString()) : [],
    lastRunAt: stored.lastRunAt?.toISOString() ?? null,
  };
}

/**
 * Set a repository's schedule (validated; null cron = the staggered daily default) and,
 * with BullMQ as the transport, its job scheduler. Throws CronError on a bad expression.
 */
export async function setRepositorySchedule(repositoryId: string, input: { cron?: string | null; enabled?: boolean }): Promise<ScheduleView> {
  const cron = input.cron ? validateCron(input.cron) : defaultCron(repositoryId);
  const enabled = input.enabled ?? true;
  const stored = await saveSchedule(repositoryId, { cron, enabled, nextRunAt: enabled ? nextRun(cron) : null });
  if (transportKind() === "bullmq") {
    const { syncBullSchedule } = await import("./bullmq.ts");
    await syncBullSchedule(repositoryId, { cron, enabled });
  }
  return viewSchedule(repositoryId, stored);
}

export async function getRepositorySchedule(repositoryId: string): Promise<ScheduleView> {
  return viewSchedule(repositoryId, await getSchedule(repositoryId));
}
