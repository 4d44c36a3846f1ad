// Project-wide function summaries, computed to a fixpoint across modules. A summary
// says what calling a function of the project does to resources, so callers can be
// analysed without looking inside: `def get_conn(): return engine.connect()` makes every
// caller of get_conn() an acquirer, a helper that closes its argument makes its caller
// safe, `run_in_threadpool(factory)` calls its argument. Summaries serve recall (wrappers)
// and precision (helpers that release) alike, and every origin learned this way carries
// the release knowledge of the type it returns.

export type FunctionSummary = {
  /** Qualified type of a fresh resource the function returns (or yields, for context managers) on some path; null: none. */
  returnsFresh: string | null;
  /** The fresh resource is returned on every path (false: only on some: "maybe-fresh"). */
  alwaysFresh: boolean;
  /** Qualified type of a non-resource object it returns (an engine, a sessionmaker, a pool): `get_engine()`. */
  returnsType: string | null;
  /** The function must be awaited for its result (async def / async function). */
  async: boolean;
  /** Parameters (0-based, `self` excluded) it releases on every path. */
  releasesParams: number[];
  /** Parameters it stores, returns or hands to an owner: ownership moves into the callee. */
  takesParams: number[];
  /** Parameters it calls: now, later (after returning), or maybe. */
  invokesParams: { index: number; when: "now" | "later" | "maybe" }[];
  /** A generator / async generator whose yield hands out a fresh resource of this type (a dependency, a context manager body). */
  yieldsFresh: string | null;
};

export function emptySummary(async = false): FunctionSummary {
  return {
    returnsFresh: null,
    alwaysFresh: false,
    returnsType: null,
    async,
    releasesParams: [],
    takesParams: [],
    invokesParams: [],
    yieldsFresh: null,
  };
}

function same(a: FunctionSummary, b: FunctionSummary): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Compute summaries for every function to a fixpoint. `compute` analyses one function
 * given a lookup of the current summaries of the others (undefined: not a project
 * function). Rounds stop when nothing changes, or after `maxRounds` (wrapper chains
 * deeper than that are rare; the last round's facts are kept).
 */
export function solveSummaries<F>(
  functions: ReadonlyMap<string, F>,
  compute: (fn: F, name: string, lookup: (qualified: string) => FunctionSummary | undefined) => FunctionSummary,
  maxRounds = 6,
): Map<string, FunctionSummary> {
  const summaries = new Map<string, FunctionSummary>();
  const lookup = (qualified: string): FunctionSummary | undefined => summaries.get(qualified);
  for (let round = 0; round < maxRounds; round++) {
    let changed = false;
    for (const [name, fn] of functions) {
      const next = compute(fn, name, lookup);
      const previous = summaries.get(name);
      if (!previous || !same(previous, next)) {
        summaries.set(name, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return summaries;
}
