import { hostname } from "node:os";
import { recordWorkerHeartbeat, removeWorkerHeartbeat } from "../db/index.ts";
import type { Logger } from "./context.ts";

// A worker's heartbeat: its row in the database is refreshed every `intervalMs` while the
// process runs, whatever the transport, so /api/health sees every worker that reaches the
// database. A failed beat (database restarting) is logged once and retried on the next tick.

export const heartbeatIntervalMs = (env: Record<string, string | undefined> = process.env): number => {
  const seconds = Number(env.POOLGUARD_HEARTBEAT_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000;
};

/** A worker whose last beat is older than this is reported stale (three missed beats). */
export const heartbeatStaleMs = (env: Record<string, string | undefined> = process.env): number => heartbeatIntervalMs(env) * 3;

export function startHeartbeat(options: { owner: string; transport: string; log: Logger; intervalMs?: number }): { stop: () => Promise<void> } {
  const intervalMs = options.intervalMs ?? heartbeatIntervalMs();
  const identity = { id: options.owner, transport: options.transport, hostname: hostname(), pid: process.pid, startedAt: new Date() };
  let failing = false;
  let pending: Promise<void> = Promise.resolve();
  const beat = () => {
    pending = recordWorkerHeartbeat(identity).then(
      () => {
        if (failing) options.log.info("heartbeat recorded again", { runner: options.owner });
        failing = false;
      },
      (error: unknown) => {
        if (!failing) options.log.error("heartbeat failed; retrying", { runner: options.owner, error: error instanceof Error ? error.message.split("\n")[0] : String(error) });
        failing = true;
      },
    );
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      await removeWorkerHeartbeat(options.owner).catch(() => {});
    },
  };
}
