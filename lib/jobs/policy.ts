// What every transport shares: job names, retry policy, lease timing. The transports
// (in-process on the database, BullMQ on Redis) only move job ids around; the handlers
// in scan-repository.ts and fire-schedule.ts do the work the same way on both.

/** Environment variables (a plain record, so tests can pass their own). */
export type Env = Record<string, string | undefined>;

export const jobNames = { scanRepository: "scan-repository", fireSchedule: "fire-schedule", processGitHubWebhook: "process-github-webhook" } as const;
export type JobName = (typeof jobNames)[keyof typeof jobNames];

/** The queue (BullMQ) or loop (in-process) every job goes through. */
export const queueName = "poolguard";

/**
 * Retries with exponential backoff. A scan that fails to fetch its snapshot is tried
 * `attempts` times in all; an analyzer or configuration error is not retried (running
 * it again gives the same answer).
 */
export const retryPolicy = { attempts: 3, backoffMs: 5_000 } as const;

export function backoffMs(attemptsMade: number): number {
  return retryPolicy.backoffMs * 2 ** Math.max(0, attemptsMade - 1);
}

export type LeaseTiming = { leaseMs: number; heartbeatMs: number };

/**
 * How long a runner's claim on a scan lasts without renewal. A runner that dies is
 * noticed after this long; POOLGUARD_LEASE_SECONDS shortens it (tests use a few seconds).
 */
export function leaseTiming(env: Env = process.env): LeaseTiming {
  const seconds = Number(env.POOLGUARD_LEASE_SECONDS);
  const leaseMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 30_000;
  return { leaseMs, heartbeatMs: Math.max(250, Math.floor(leaseMs / 3)) };
}

/** Scans one runner process works on at once (POOLGUARD_WORKER_CONCURRENCY, default 1). */
export function workerConcurrency(env: Env = process.env): number {
  const value = Number(env.POOLGUARD_WORKER_CONCURRENCY);
  return Number.isInteger(value) && value > 0 ? value : 1;
}

export type TransportKind = "database" | "bullmq";

/** Where BullMQ keeps its queues: Redis (REDIS_URL) or the app's PostgreSQL database (POOLGUARD_QUEUE=postgres). */
export type QueueStore = "redis" | "postgres";

/**
 * The BullMQ store this configuration asks for, or null for the in-process runner.
 * Throws with the reason when POOLGUARD_QUEUE names something that cannot run.
 */
export function queueStore(env: Env = process.env): QueueStore | null {
  const asked = env.POOLGUARD_QUEUE?.trim().toLowerCase() ?? "";
  if (asked === "" || asked === "redis") return env.REDIS_URL?.trim() ? "redis" : null;
  if (asked !== "postgres") throw new Error(`POOLGUARD_QUEUE=${env.POOLGUARD_QUEUE}: unknown value (use "postgres", or leave it unset)`);
  if (!/^postgres(ql)?:\/\//.test(env.DATABASE_URL?.trim() ?? "")) {
    throw new Error("POOLGUARD_QUEUE=postgres keeps BullMQ's queues in the app's PostgreSQL database: DATABASE_URL must be a postgresql:// URL");
  }
  return "postgres";
}

export function transportKind(env: Env = process.env): TransportKind {
  return queueStore(env) ? "bullmq" : "database";
}
