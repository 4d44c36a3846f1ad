import { CronExpressionParser } from "cron-parser";
import cronstrue from "cronstrue";

// Schedules are five-field cron expressions in UTC.

export class CronError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CronError";
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** Daily, at a minute derived from the repository id: repositories do not all start at once. */
export function defaultCron(repositoryId: string): string {
  const minuteOfDay = hash(repositoryId) % (24 * 60);
  return `${minuteOfDay % 60} ${Math.floor(minuteOfDay / 60)} * * *`;
}

/** Normalise and check an expression: five fields, no more often than every 5 minutes. */
export function validateCron(expression: string): string {
  const value = expression.trim().replace(/\s+/g, " ");
  if (value.split(" ").length !== 5) throw new CronError("a schedule is a five-field cron expression (minute hour day month weekday)");
  let runs: Date[];
  try {
    const parsed = CronExpressionParser.parse(value, { tz: "UTC", currentDate: new Date(Date.UTC(2030, 0, 1)) });
    runs = [parsed.next().toDate(), parsed.next().toDate(), parsed.next().toDate()];
  } catch (error) {
    throw new CronError(`not a valid cron expression: ${(error as Error).message}`);
  }
  if (runs[1].getTime() - runs[0].getTime() < 5 * 60_000 || runs[2].getTime() - runs[1].getTime() < 5 * 60_000) {
    throw new CronError("a schedule may run at most every 5 minutes");
  }
  return value;
}

export function nextRuns(expression: string, count: number, after = new Date()): Date[] {
  const parsed = CronExpressionParser.parse(expression, { tz: "UTC", currentDate: after });
  const runs: Date[] = [];
  for (let i = 0; i < count; i++) runs.push(parsed.next().toDate());
  return runs;
}

export function nextRun(expression: string, after = new Date()): Date {
  return nextRuns(expression, 1, after)[0];
}

/** The latest slot at or before `at` (the run a fired job belongs to). */
export function slotAtOrBefore(expression: string, at = new Date()): Date {
  const parsed = CronExpressionParser.parse(expression, { tz: "UTC", currentDate: new Date(at.getTime() + 1000) });
  return parsed.prev().toDate();
}

export function describeCron(expression: string): string {
  return `${cronstrue.toString(expression, { use24HourTimeFormat: true, verbose: false })} (UTC)`;
}
