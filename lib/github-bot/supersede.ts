// Work for an older head of a pull request is cancelled when a newer head arrives.
// Keyed by repository + pull request number; the newest head wins. (Across processes,
// each review also re-reads the pull request's head before it writes anything.)

const running = new Map<string, { headSha: string; controller: AbortController }>();

export function pullKey(owner: string, repo: string, number: number): string {
  return `${owner}/${repo}#${number}`.toLowerCase();
}

/** Claim the pull request for `headSha`; aborts work on any other head. */
export function claimPullRequest(key: string, headSha: string): { signal: AbortSignal; release: () => void } {
  const previous = running.get(key);
  if (previous && previous.headSha !== headSha) previous.controller.abort();
  const controller = previous && previous.headSha === headSha ? previous.controller : new AbortController();
  const entry = { headSha, controller };
  running.set(key, entry);
  return {
    signal: controller.signal,
    release: () => {
      if (running.get(key) === entry) running.delete(key);
    },
  };
}
