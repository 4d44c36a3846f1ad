// The bot's work queue: webhook work runs in this process, after the answer to GitHub
// (which wants one within 10 s). Each delivery is recorded in the database first, with
// its status (received -> processed | failed), so nothing runs twice for one delivery.

const pending = new Set<Promise<unknown>>();

export function enqueue(work: () => Promise<unknown>): void {
  const run = new Promise<void>((resolve) => setImmediate(resolve)).then(work);
  const tracked = run.catch(() => {}).finally(() => pending.delete(tracked));
  pending.add(tracked);
}

/** Resolves once every queued piece of work has finished (tests, shutdown). */
export async function idle(): Promise<void> {
  while (pending.size > 0) await Promise.allSettled([...pending]);
}

export function pendingCount(): number {
  return pending.size;
}
