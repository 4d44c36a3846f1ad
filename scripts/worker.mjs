#!/usr/bin/env node
// `npm run worker`: run scan and schedule jobs in this process. With REDIS_URL set it
// takes jobs from BullMQ; without, it polls the database (DATABASE_URL) for queued
// scans and due schedules. Run as many as you like, on any machine that reaches the
// database (and Redis). `npm start` runs one next to the web app unless
// POOLGUARD_WEB_ONLY=1.
//
//   POOLGUARD_WORKER_CONCURRENCY  scans at once in this process (default 1)
//   POOLGUARD_ANALYZER_JOBS       analysis processes per scan (default: one per core)
//   POOLGUARD_LEASE_SECONDS       how soon a dead worker's scan is taken over (default 30)
//   POOLGUARD_SCAN_TIME_LIMIT_SECONDS  per-scan time limit (default 1800)
//   POOLGUARD_HEARTBEAT_SECONDS   how often the worker records that it is alive (default 10)
import { register } from "tsx/esm/api";

register();
const { startRunner } = await import("../lib/jobs/index.ts");
const { disconnectDatabase } = await import("../lib/db/index.ts");
const { startHeartbeat } = await import("../lib/jobs/heartbeat.ts");
const { jsonLogger } = await import("../lib/jobs/context.ts");

const analyzerJobs = Number(process.env.POOLGUARD_ANALYZER_JOBS) || undefined;
// A worker that cannot start (bad configuration, database unreachable) says why in one
// line and exits 1, so a service manager's log shows the reason rather than a stack.
const runner = await startRunner({ analyzerJobs }).catch((error) => {
  console.error(`poolguard worker: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
const log = jsonLogger({ component: "worker", runner: runner.owner });
// The heartbeat row tells /api/health this worker is alive (POOLGUARD_HEARTBEAT_SECONDS, default 10).
const heartbeat = startHeartbeat({ owner: runner.owner, transport: runner.transport, log });
log.info("worker started", { transport: runner.transport });

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log.info("worker stopping", { signal });
  // Running scans are handed back to the queue at once (not counted as interrupted).
  await runner.stop();
  await heartbeat.stop();
  await disconnectDatabase();
  process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
