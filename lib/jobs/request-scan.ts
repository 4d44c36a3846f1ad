import { enqueueScan, type ScanTrigger } from "../db/index.ts";
import { currentRequestId } from "../log.ts";
import type { Dispatcher } from "./context.ts";

/**
 * Queue a scan (durably, in the database) and tell the transport about it. A scan
 * already queued for the same repository and commit, or made under the same
 * idempotency key, is returned instead of a second one.
 */
export async function requestScan(
  dispatcher: Dispatcher,
  input: { repositoryId: string; trigger: ScanTrigger; branch?: string | null; commitSha?: string | null; idempotencyKey?: string | null; requestId?: string | null },
) {
  // Asked for inside a request (an API call, or a webhook delivery being processed): the
  // scan keeps that request's id, and the worker's lines for it carry it.
  const queued = await enqueueScan({ ...input, requestId: input.requestId ?? currentRequestId() ?? null });
  if (queued.created) await dispatcher.dispatchScan(queued.scan.id, queued.scan.attempts);
  return queued;
}
