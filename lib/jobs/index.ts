// Jobs: one code path (handlers in scan-repository.ts, fire-schedule.ts), two
// transports: the database (default) or BullMQ, on Redis (REDIS_URL set) or on the
// app's PostgreSQL database (POOLGUARD_QUEUE=postgres). An impossible combination
// (POOLGUARD_QUEUE=postgres on SQLite) throws when the runner starts.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { type Dispatcher, jsonLogger, type Logger } from "./context.ts";
import { leaseTiming, transportKind, workerConcurrency } from "./policy.ts";

export { CronError, defaultCron, describeCron, nextRuns, validateCron } from "./cron.ts";
export { jobNames, retryPolicy, transportKind } from "./policy.ts";
export { requestScan } from "./request-scan.ts";
export { requestFixPullRequests } from "./open-fix-pull-request.ts";
export { jsonLogger } from "./context.ts";
export { getRepositorySchedule, type ScheduleView, setRepositorySchedule } from "./schedules.ts";

const databaseDispatcher: Dispatcher = {
  // Runners poll the database: queuing the row is all it takes.
  async dispatchScan() {},
};

/** How this process hands new scans to runners. */
export async function dispatcher(): Promise<Dispatcher> {
  if (transportKind() === "database") return databaseDispatcher;
  const { bullDispatcher } = await import("./bullmq.ts");
  return bullDispatcher;
}

export function runnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

export type Runner = { transport: "database" | "bullmq"; owner: string; stop: () => Promise<void> };

/** Start working on jobs in this process with the configured transport. */
export async function startRunner(options: { concurrency?: number; log?: Logger; analyzerJobs?: number; pollMs?: number } = {}): Promise<Runner> {
  const owner = runnerId();
  const log = options.log ?? jsonLogger({ runner: owner });
  const common = { owner, concurrency: options.concurrency ?? workerConcurrency(), timing: leaseTiming(), log, analyzerJobs: options.analyzerJobs };
  if (transportKind() === "bullmq") {
    const { startBullRunner } = await import("./bullmq.ts");
    const runner = await startBullRunner(common);
    return { transport: "bullmq", owner, stop: runner.stop };
  }
  const { startDatabaseRunner } = await import("./database-runner.ts");
  const runner = await startDatabaseRunner({ ...common, pollMs: options.pollMs });
  return { transport: "database", owner, stop: runner.stop };
}
