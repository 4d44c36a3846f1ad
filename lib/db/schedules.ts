import { db } from "./client.ts";

// Per-repository scan schedules live on RepositorySettings (scheduleCron,
// scheduleEnabled, nextRunAt). Instances claim a due run by moving nextRunAt forward
// with a conditional update: only the instance whose update matched fires it.

export type StoredSchedule = {
  repositoryId: string;
  cron: string | null;
  enabled: boolean;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
};

function present(row: { repositoryId: string; scheduleCron: string | null; scheduleEnabled: boolean; nextRunAt: Date | null; lastRunAt: Date | null }): StoredSchedule {
  return { repositoryId: row.repositoryId, cron: row.scheduleCron, enabled: row.scheduleEnabled, nextRunAt: row.nextRunAt, lastRunAt: row.lastRunAt };
}

export async function getSchedule(repositoryId: string): Promise<StoredSchedule> {
  const row = await db().repositorySettings.upsert({ where: { repositoryId }, create: { repositoryId }, update: {} });
  return present(row);
}

export async function saveSchedule(repositoryId: string, schedule: { cron: string; enabled: boolean; nextRunAt: Date | null }): Promise<StoredSchedule> {
  const data = { scheduleCron: schedule.cron, scheduleEnabled: schedule.enabled, nextRunAt: schedule.nextRunAt };
  const row = await db().repositorySettings.upsert({ where: { repositoryId }, create: { repositoryId, ...data }, update: data });
  return present(row);
}

/** Enabled schedules whose next run is due, of repositories still in use. */
export async function listDueSchedules(now = new Date(), take = 50): Promise<StoredSchedule[]> {
  const rows = await db().repositorySettings.findMany({
    where: { scheduleEnabled: true, scheduleCron: { not: null }, nextRunAt: { lte: now }, repository: { archived: false } },
    orderBy: { nextRunAt: "asc" },
    take,
  });
  return rows.map(present);
}

export async function listEnabledSchedules(): Promise<StoredSchedule[]> {
  const rows = await db().repositorySettings.findMany({
    where: { scheduleEnabled: true, scheduleCron: { not: null }, repository: { archived: false } },
  });
  return rows.map(present);
}

/**
 * Claim the run due at `dueAt`: succeeds for exactly one caller, which moves the
 * schedule on to `nextRunAt`.
 */
export async function claimScheduleRun(repositoryId: string, dueAt: Date, nextRunAt: Date): Promise<boolean> {
  const claimed = await db().repositorySettings.updateMany({
    where: { repositoryId, scheduleEnabled: true, nextRunAt: dueAt },
    data: { nextRunAt, lastRunAt: dueAt },
  });
  return claimed.count === 1;
}

/** Record a run fired elsewhere (BullMQ's job scheduler). */
export async function recordScheduleRun(repositoryId: string, ranAt: Date, nextRunAt: Date | null) {
  await db().repositorySettings.updateMany({ where: { repositoryId }, data: { lastRunAt: ranAt, nextRunAt } });
}
