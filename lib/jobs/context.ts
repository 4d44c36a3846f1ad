// What a job handler gets from the transport running it.
export type Logger = {
  info: (message: string, data?: Record<string, unknown>) => void;
  error: (message: string, data?: Record<string, unknown>) => void;
};

export type Dispatcher = {
  /** Make sure a runner will look at this queued scan (after `delayMs`). */
  dispatchScan(scanId: string, attempts: number, delayMs?: number): Promise<void>;
};

export type JobContext = {
  /** This runner's identity, written as the lease owner of the scans it runs. */
  owner: string;
  leaseMs: number;
  heartbeatMs: number;
  /** Aborted when the runner shuts down. */
  signal: AbortSignal;
  dispatcher: Dispatcher;
  log: Logger;
  /** Analysis processes per scan. */
  analyzerJobs?: number;
};

/** One line of JSON per event on stdout (pino-compatible shape, no dependency here). */
export function jsonLogger(base: Record<string, unknown> = {}): Logger {
  const write = (level: number, msg: string, data?: Record<string, unknown>) =>
    process.stdout.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, ...base, msg, ...data })}\n`);
  return { info: (m, d) => write(30, m, d), error: (m, d) => write(50, m, d) };
}
