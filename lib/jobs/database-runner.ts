import { claimScheduleRun, listDueSchedules, listEnabledSchedules, listQueuedScans, recoverExpiredScans, saveSchedule } from "../db/index.ts";
import type { Dispatcher, JobContext, Logger } from "./context.ts";
import { nextRun } from "./cron.ts";
import * as fireSchedule from "./fire-schedule.ts";
import * as processGitHubWebhook from "./process-github-webhook.ts";
import type { LeaseTiming } from "./policy.ts";
import * as scanRepository from "./scan-repository.ts";

// The default transport: no broker, the database is the queue. Each runner polls for
// queued scans, due schedules and GitHub webhook deliveries; claims are conditional updates, so any number of
// runners (processes, machines) can share one database.

export type DatabaseRunner = { stop: () => Promise<void>; wake: () => void };

export async function fireDueSchedules(dispatcher: Dispatcher, log: Logger, now = new Date()): Promise<number> {
  let fired = 0;
  for (const due of await listDueSchedules(now)) {
    if (!due.cron || !due.nextRunAt) continue;
    const following = nextRun(due.cron, now);
    // Only the instance whose conditional update matched fires this run.
    if (!(await claimScheduleRun(due.repositoryId, due.nextRunAt, following))) continue;
    fired++;
    try {
      await fireSchedule.handle({ repositoryId: due.repositoryId, dueAt: due.nextRunAt.toISOString() }, { dispatcher, log });
    } catch (error) {
      log.error("schedule failed", { repositoryId: due.repositoryId, error: (error as Error).message });
    }
  }
  return fired;
}

/** Schedules saved without a next run time (e.g. by an older version) get one. */
async function primeSchedules() {
  for (const s of await listEnabledSchedules()) {
    if (s.cron && !s.nextRunAt) await saveSchedule(s.repositoryId, { cron: s.cron, enabled: true, nextRunAt: nextRun(s.cron) });
  }
}

export async function startDatabaseRunner(options: {
  owner: string;
  concurrency: number;
  timing: LeaseTiming;
  log: Logger;
  pollMs?: number;
  analyzerJobs?: number;
}): Promise<DatabaseRunner> {
  const pollMs = options.pollMs ?? 1000;
  const controller = new AbortController();
  const inFlight = new Map<string, Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  let stopped = false;
  const wake = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, 0);
  };
  const dispatcher: Dispatcher = {
    async dispatchScan(_scanId, _attempts, delayMs = 0) {
      // Polling finds it; a short delay only wakes the loop sooner.
      if (delayMs <= 0) wake();
    },
  };
  const ctx: JobContext = {
    owner: options.owner,
    leaseMs: options.timing.leaseMs,
    heartbeatMs: options.timing.heartbeatMs,
    signal: controller.signal,
    dispatcher,
    log: options.log,
    analyzerJobs: options.analyzerJobs,
  };

  async function tick() {
    if (ticking || stopped) return;
    ticking = true;
    try {
      const recovered = await recoverExpiredScans();
      for (const id of recovered.requeued) options.log.info("scan re-queued after its runner stopped", { scanId: id });
      for (const id of recovered.failed) options.log.error("scan failed after repeated interruptions", { scanId: id });
      await fireDueSchedules(dispatcher, options.log);
      if (inFlight.size < options.concurrency) {
        const candidates = await listQueuedScans(options.concurrency * 4);
        for (const candidate of candidates) {
          if (inFlight.size >= options.concurrency || stopped) break;
          if (inFlight.has(candidate.id)) continue;
          const run = scanRepository
            .handle({ scanId: candidate.id }, ctx)
            .catch((error) => options.log.error("scan job crashed", { scanId: candidate.id, error: (error as Error).message }))
            .finally(() => {
              inFlight.delete(candidate.id);
              wake();
            });
          inFlight.set(candidate.id, run);
        }
      }
    } catch (error) {
      options.log.error("runner tick failed", { error: (error as Error).message });
    } finally {
      ticking = false;
      if (!stopped) timer = setTimeout(tick, pollMs);
    }
  }

  await primeSchedules();
  // Pull request reviews run the analyzer in this process: load it before taking any work
  // (loading blocks this thread for a moment, which must not delay a lease renewal).
  await processGitHubWebhook.warmAnalyzer();
  // GitHub webhook deliveries have their own, faster loop: a review never waits behind a scan.
  const deliveries = processGitHubWebhook.startDeliveryPoller(ctx);
  wake();
  return {
    wake,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
      await Promise.allSettled([...inFlight.values(), deliveries.stop()]);
    },
  };
}
