import { childLogger } from "../log.ts";

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

/** One line of JSON per event on stdout, through the process's pino logger (secrets scrubbed, request id when in a request). */
export function jsonLogger(base: Record<string, unknown> = {}): Logger {
  const log = childLogger(base);
  return { info: (m, d) => log.info(d ?? {}, m), error: (m, d) => log.error(d ?? {}, m) };
}
