import { createPostgresBackend, DelayedError, type Job, Queue, type QueueOptions, Worker, type WorkerOptions } from "bullmq";
import { Redis } from "ioredis";
import { listEnabledSchedules, listQueuedScans, recordScheduleRun, recoverExpiredScans } from "../db/index.ts";
import type { Dispatcher, JobContext, Logger } from "./context.ts";
import { nextRun, slotAtOrBefore } from "./cron.ts";
import * as fireSchedule from "./fire-schedule.ts";
import * as openFixPullRequest from "./open-fix-pull-request.ts";
import * as processGitHubWebhook from "./process-github-webhook.ts";
import { backoffMs, jobNames, type LeaseTiming, queueName, queueStore, retryPolicy } from "./policy.ts";
import * as scanRepository from "./scan-repository.ts";

// BullMQ on Redis (REDIS_URL), or on the app's PostgreSQL database (POOLGUARD_QUEUE=postgres,
// BullMQ's PostgreSQL backend, in its own schema). Jobs carry only ids; the scan rows stay
// the source of truth, so a job delivered twice (a stalled job re-run, a sweeper
// re-dispatch) is harmless: only one runner can claim a queued scan and only the lease
// holder can complete it.

/** PostgreSQL schema BullMQ's tables live in: apart from the app's own tables. */
export const postgresQueueSchema = "bullmq";

/** Redis key prefix (POOLGUARD_QUEUE_PREFIX): several installations can share one Redis. */
function prefix() {
  return process.env.POOLGUARD_QUEUE_PREFIX?.trim() || "poolguard";
}

/** The store's address: REDIS_URL, or DATABASE_URL with POOLGUARD_QUEUE=postgres. */
function storeUrl() {
  return (queueStore() === "postgres" ? process.env.DATABASE_URL : process.env.REDIS_URL) ?? "";
}

function connectionOptions(url: string) {
  if (queueStore() === "postgres") {
    // migrate: the first Queue or Worker to connect creates or upgrades the schema (an
    // advisory lock makes concurrent starters wait for it).
    return { connection: { connectionString: url, schema: postgresQueueSchema, migrate: true } };
  }
  return { connection: new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true }), prefix: prefix() };
}

// The same Queue and Worker classes on either store; only the backend factory differs.
function newQueue(name: string, url: string, options: Omit<QueueOptions, "connection">): Queue {
  const opts = { ...options, ...connectionOptions(url) };
  if (queueStore() === "postgres") return new Queue(name, opts as never, createPostgresBackend as never) as unknown as Queue;
  return new Queue(name, opts as QueueOptions);
}

function newWorker(name: string, url: string, processor: (job: Job, token?: string) => Promise<unknown>, options: Omit<WorkerOptions, "connection">): Worker {
  const opts = { ...options, ...connectionOptions(url) };
  if (queueStore() === "postgres") return new Worker(name, processor as never, opts as never, createPostgresBackend as never) as unknown as Worker;
  return new Worker(name, processor, opts as WorkerOptions);
}

const defaultJobOptions = {
  attempts: retryPolicy.attempts,
  backoff: { type: "exponential", delay: retryPolicy.backoffMs },
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
};

/** GitHub webhook deliveries have their own queue and worker: a review never waits behind a long scan. */
export const githubQueueName = `${queueName}-github`;

const sharedQueues = new Map<string, { url: string; queue: Queue }>();

/** The queue used to add jobs (web app and workers), one per process and name. */
export function bullQueue(url = storeUrl(), name: string = queueName): Queue {
  const current = sharedQueues.get(name);
  if (current?.url === url) return current.queue;
  const queue = newQueue(name, url, { defaultJobOptions });
  sharedQueues.set(name, { url, queue });
  return queue;
}

export async function closeBullQueue() {
  const current = [...sharedQueues.values()];
  sharedQueues.clear();
  await Promise.all(current.map((c) => c.queue.close()));
}

export const bullDispatcher: Dispatcher = {
  async dispatchScan(scanId, attempts, delayMs = 0) {
    await bullQueue().add(
      jobNames.scanRepository,
      { scanId },
      { jobId: scanRepository.idempotencyKey({ scanId }, attempts), delay: delayMs > 0 ? delayMs : undefined },
    );
  },
};

export function schedulerId(repositoryId: string) {
  return `schedule-${repositoryId}`;
}

/** Keep BullMQ's job scheduler for a repository in line with its stored schedule. */
export async function syncBullSchedule(repositoryId: string, schedule: { cron: string | null; enabled: boolean }) {
  const queue = bullQueue();
  if (!schedule.enabled || !schedule.cron) {
    await queue.removeJobScheduler(schedulerId(repositoryId));
    return;
  }
  await queue.upsertJobScheduler(
    schedulerId(repositoryId),
    { pattern: schedule.cron, tz: "UTC" },
    { name: jobNames.fireSchedule, data: { repositoryId }, opts: { attempts: retryPolicy.attempts, backoff: defaultJobOptions.backoff } },
  );
}

/** Every stored schedule as a job scheduler; schedulers of removed schedules go away. */
export async function syncAllBullSchedules() {
  const queue = bullQueue();
  const schedules = await listEnabledSchedules();
  const wanted = new Set(schedules.map((s) => schedulerId(s.repositoryId)));
  for (const s of schedules) await syncBullSchedule(s.repositoryId, s);
  for (const existing of await queue.getJobSchedulers(0, -1)) {
    const id = (existing as { key?: string; id?: string }).key ?? (existing as { id?: string }).id;
    if (id?.startsWith("schedule-") && !wanted.has(id)) await queue.removeJobScheduler(id);
  }
}

export type BullRunner = { stop: () => Promise<void> };

export async function startBullRunner(options: {
  owner: string;
  concurrency: number;
  timing: LeaseTiming;
  log: Logger;
  analyzerJobs?: number;
}): Promise<BullRunner> {
  const url = storeUrl();
  const controller = new AbortController();
  const ctx: JobContext = {
    owner: options.owner,
    leaseMs: options.timing.leaseMs,
    heartbeatMs: options.timing.heartbeatMs,
    signal: controller.signal,
    dispatcher: bullDispatcher,
    log: options.log,
    analyzerJobs: options.analyzerJobs,
  };
  const retryLater = async (job: Job, token: string | undefined, delayMs: number) => {
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  };
  // Pull request reviews run the analyzer in this process: load it before taking jobs
  // (loading blocks this thread for a moment, which must not delay a job's lock renewal).
  await (await import("../github-bot/review.ts")).warmAnalyzer();
  const worker = newWorker(
    queueName,
    url,
    async (job, token) => {
      if (job.name === jobNames.scanRepository) {
        const result = await scanRepository.handle(job.data, ctx);
        if (result.kind === "busy") await retryLater(job, token, 1000 + Math.floor(Math.random() * 1000));
        if (result.kind === "held") await retryLater(job, token, Math.max(250, result.until.getTime() - Date.now() + 100));
        return result;
      }
      if (job.name === jobNames.fireSchedule) {
        const { repositoryId } = fireSchedule.payloadSchema.parse(job.data);
        // The slot this run belongs to: when BullMQ meant it to run (prevMillis), snapped to
        // the cron slot at or before it, because BullMQ moves a slot that had already
        // passed when it was computed (a busy machine) to "now", a few ms off the slot.
        const meant = (job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp + (job.opts.delay ?? 0);
        const schedule = (await listEnabledSchedules()).find((s) => s.repositoryId === repositoryId);
        const dueAt = (schedule?.cron ? slotAtOrBefore(schedule.cron, new Date(meant)) : new Date(meant)).toISOString();
        const result = await fireSchedule.handle({ repositoryId, dueAt }, ctx);
        await recordScheduleRun(repositoryId, new Date(dueAt), schedule?.cron ? nextRun(schedule.cron) : null);
        return result;
      }
      if (job.name === openFixPullRequest.name) return openFixPullRequest.handle(job.data, ctx);
      throw new Error(`unknown job ${job.name}`);
    },
    {
      concurrency: options.concurrency,
      lockDuration: options.timing.leaseMs,
      stalledInterval: options.timing.leaseMs,
      // The database decides when a scan has been interrupted too often.
      maxStalledCount: 10,
      settings: { backoffStrategy: (attemptsMade: number) => backoffMs(attemptsMade) },
    },
  );
  worker.on("failed", (job, error) => options.log.error("job failed", { job: job?.name, jobId: job?.id, error: error.message }));
  worker.on("error", (error) => options.log.error("worker error", { error: error.message }));
  const deliveries = newWorker(
    githubQueueName,
    url,
    async (job, token) => {
      if (job.name !== processGitHubWebhook.name) throw new Error(`unknown job ${job.name}`);
      const result = await processGitHubWebhook.handle(job.data, ctx);
      // Its runner may have died: look again once that runner's lease has run out.
      if (result.kind === "held") await retryLater(job, token, Math.max(250, (result.until as Date).getTime() - Date.now() + 100));
      return result;
    },
    { concurrency: 2, lockDuration: options.timing.leaseMs, stalledInterval: options.timing.leaseMs, maxStalledCount: 10 },
  );
  deliveries.on("failed", (job, error) => options.log.error("job failed", { job: job?.name, jobId: job?.id, error: error.message }));
  deliveries.on("error", (error) => options.log.error("worker error", { error: error.message }));

  await syncAllBullSchedules();

  // Sweeper: scans queued in the database with no job (the process that queued them
  // died before adding the job, or recovery re-queued them) get one. Duplicates are
  // harmless (see above).
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await recoverExpiredScans();
      const stale = new Date(Date.now() - options.timing.leaseMs);
      for (const scan of await listQueuedScans(200)) {
        if (scan.createdAt < stale || scan.attempts > 0) await bullDispatcher.dispatchScan(scan.id, scan.attempts);
      }
      // Webhook deliveries the same way (jobs for the same delivery and start share an id).
      await processGitHubWebhook.sweepDeliveries(async (deliveryId, attempts) => {
        await bullQueue(url, githubQueueName).add(processGitHubWebhook.name, { deliveryId }, { jobId: processGitHubWebhook.idempotencyKey({ deliveryId }, attempts), attempts: 1 });
      }, options.timing.leaseMs);
    } catch (error) {
      options.log.error("sweep failed", { error: (error as Error).message });
    } finally {
      sweeping = false;
    }
  };
  const sweeper = setInterval(sweep, options.timing.leaseMs);
  return {
    async stop() {
      clearInterval(sweeper);
      controller.abort();
      await Promise.all([worker.close(), deliveries.close()]);
      await closeBullQueue();
    },
  };
}
