import type { Effect, FlowGraph, NodeId, Ref, Span, TransferReason } from "./graph.ts";

// Resource-state dataflow over one FlowGraph. Values are abstracted by their
// acquisition site (one abstract value per `acquire` effect). A forward may-analysis
// tracks, per site, the set of states it can be in on some path reaching each node:
// owned, released, transferred; and, per variable, the sites it may point to. Every
// lifecycle rule is a query on the result: leaks (owned at an exit), uses of a value
// released on every path, and references overwritten while they still own something.

const OWNED = 1;
const RELEASED = 2;
const TRANSFERRED = 4;
/** Owned, but acquired lazily and not used yet on this path: an exception here leaks nothing. */
const PENDING = 8;
const HELD = OWNED | PENDING;

/** Pseudo-site: the variable may hold something untracked on some path. */
const UNTRACKED = -1;

/**
 * Pseudo-site (option `unboundIsNotAValue`): the variable is not bound on some path
 * (Python: a name assigned only inside the `with`/`try` that raised). A use through it
 * cannot reach another value, so uses after release ignore it; everything else treats it
 * like UNTRACKED.
 */
const UNBOUND = -2;

export type AnalyzeOptions = {
  /** Variables bound on some paths only are "unbound" on the others, not "anything else" (Python names). Default false. */
  unboundIsNotAValue?: boolean;
};

type State = {
  /** variable -> sites it may point to (UNTRACKED included when it may hold anything else). */
  vars: Map<string, number[]>;
  /** site -> bitmask of OWNED | RELEASED | TRANSFERRED on the paths that acquired it (absent: not acquired yet). */
  sites: Map<number, number>;
  /** child site -> parent site (a parent's release frees its children). */
  parents: Map<number, number>;
  /**
   * Copy-on-write: a state stored as the input of more than one node (or as a node's
   * input and also its unchanged output) is shared and must be copied before a join
   * changes it. `apply` never changes its input; only `join` changes states in place.
   */
  shared: boolean;
};

export type SiteReport = {
  site: number;
  /** Some path reaches the normal exit (return / end of body) with the value still owned. */
  leaksOnNormalExit: boolean;
  /** Some path leaves through an exception with the value still owned. */
  leaksOnException: boolean;
  /** Where the only reference was overwritten while the value was certainly owned. */
  overwrittenAt: Span | null;
  /** Where it is released on some path (in source order). */
  releases: Span[];
  /** Ways ownership left the function on some path. */
  transfers: TransferReason[];
  /** The node ids of the exits reached with the value owned (for messages: which return). */
  leakingExits: { node: NodeId; exceptional: boolean }[];
};

export type UseAfterRelease = { site: number; use: Span; releasedAt: Span[] };

export type FlowResult = {
  sites: Map<number, SiteReport>;
  usesAfterRelease: UseAfterRelease[];
};

function emptyState(): State {
  return { vars: new Map(), sites: new Map(), parents: new Map(), shared: false };
}

// Site lists are never changed in place (every update builds a new array), so copies
// of a state share them.
function clone(state: State): State {
  return {
    vars: new Map(state.vars),
    sites: new Map(state.sites),
    parents: state.parents.size === 0 ? new Map() : new Map(state.parents),
    shared: false,
  };
}

function containsAll(existing: readonly number[], sites: readonly number[]): boolean {
  if (existing === sites) return true;
  for (const x of sites) if (!existing.includes(x)) return false;
  return true;
}

function union(a: readonly number[], b: readonly number[]): number[] {
  if (a === b) return a as number[];
  const out = [...a];
  for (const x of b) if (!out.includes(x)) out.push(x);
  return out.sort((x, y) => x - y);
}

function join(into: State | undefined, from: State, missing: number = UNTRACKED): { state: State; changed: boolean } {
  if (!into) {
    // The first state to reach a node is kept as is (no copy): it is shared from now on.
    from.shared = true;
    return { state: from, changed: true };
  }
  // Read-only pass first: most joins at a fixpoint change nothing, and a shared state
  // is copied only when it really changes.
  if (!joinChanges(into, from, missing)) return { state: into, changed: false };
  const target = into.shared ? clone(into) : into;
  for (const [v, sites] of from.vars) {
    const existing = target.vars.get(v);
    if (existing && containsAll(existing, sites)) continue;
    // A variable bound on one path only may hold anything on the other.
    const merged = existing ? union(existing, sites) : union(sites, [missing]);
    if (!existing || merged.length !== existing.length) target.vars.set(v, merged);
  }
  for (const [v, sites] of target.vars) {
    if (!from.vars.has(v) && !sites.includes(missing) && !sites.includes(UNTRACKED)) target.vars.set(v, union(sites, [missing]));
  }
  for (const [site, bits] of from.sites) {
    const existing = target.sites.get(site) ?? 0;
    if ((existing | bits) !== existing) target.sites.set(site, existing | bits);
  }
  for (const [child, parent] of from.parents) {
    if (!target.parents.has(child)) target.parents.set(child, parent);
  }
  return { state: target, changed: true };
}

/** Whether joining FROM into INTO would change INTO (the same tests as `join`). */
function joinChanges(into: State, from: State, missing: number): boolean {
  if (into === from) return false;
  for (const [v, sites] of from.vars) {
    const existing = into.vars.get(v);
    if (!existing) return true;
    if (!containsAll(existing, sites)) return true;
  }
  for (const [v, sites] of into.vars) {
    if (!from.vars.has(v) && !sites.includes(missing) && !sites.includes(UNTRACKED)) return true;
  }
  for (const [site, bits] of from.sites) {
    const existing = into.sites.get(site) ?? 0;
    if ((existing | bits) !== existing) return true;
  }
  for (const child of from.parents.keys()) if (!into.parents.has(child)) return true;
  return false;
}

function sitesOf(state: State, ref: Ref): number[] {
  if ("temp" in ref) return state.sites.has(ref.temp) ? [ref.temp] : [];
  return state.vars.get(ref.var) ?? [];
}

type Recorder = {
  overwritten(site: number, span: Span | null): void;
  /** `before`: the site's bits before this release. */
  release(site: number, span: Span, before: number): void;
  transfer(site: number, reason: TransferReason): void;
  use(sites: number[], state: State, span: Span): void;
};

function releaseSites(state: State, sites: readonly number[], span: Span, recorder: Recorder | null): void {
  const targets = new Set(sites.filter((s) => s >= 0));
  // Children follow their parents: dataSource.destroy() releases its query runners.
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of state.parents) {
      if (targets.has(parent) && !targets.has(child)) {
        targets.add(child);
        grew = true;
      }
    }
  }
  for (const site of targets) {
    if (!state.sites.has(site)) continue;
    const bits = state.sites.get(site) ?? 0;
    // A transferred value stays transferred; an owned one becomes released (strong update:
    // the abstract site stands for the value this path holds).
    state.sites.set(site, bits & TRANSFERRED ? TRANSFERRED | (bits & RELEASED) : RELEASED);
    recorder?.release(site, span, bits);
  }
}

function lostReferences(state: State, target: string, span: Span | null, recorder: Recorder | null): void {
  const old = state.vars.get(target);
  if (!old) return;
  for (const site of old) {
    if (site < 0) continue;
    const held = state.sites.get(site);
    if (held !== OWNED && held !== PENDING) continue;
    let referenced = false;
    for (const [v, sites] of state.vars) if (v !== target && sites.includes(site)) referenced = true;
    for (const [child, parent] of state.parents) if (parent === site && state.sites.get(child) !== undefined && child !== site) referenced = true;
    if (referenced) continue;
    recorder?.overwritten(site, span);
  }
}

/**
 * Hand-offs that only may keep the value (a constructed object, a container). When the
 * function itself releases the value afterwards on its normal path, it was lent, not
 * given away: `cfg = Config(session)` ... `session.close()`.
 */
const WEAK_TRANSFERS: ReadonlySet<TransferReason> = new Set(["passed-unknown-owner", "stored-container"]);

function apply(state: State, effects: readonly Effect[], skipAcquire: boolean, recorder: Recorder | null, span: Span | null, lent: ReadonlySet<number> | null = null): State {
  if (effects.length === 0) return state;
  // Copied on the first effect that changes something: nodes that only use values
  // (most of them) pass their input on unchanged.
  let next = state;
  const writable = (): State => {
    if (next === state) next = clone(state);
    return next;
  };
  for (const effect of effects) {
    switch (effect.kind) {
      case "acquire": {
        if (skipAcquire) break;
        const w = writable();
        if (effect.bind !== null) lostReferences(w, effect.bind, span, recorder);
        w.sites.set(effect.site, effect.lazy ? PENDING : OWNED);
        w.parents.delete(effect.site);
        if (effect.bind !== null) w.vars.set(effect.bind, [effect.site]);
        break;
      }
      case "assign": {
        const sources = effect.source ? sitesOf(next, effect.source) : [];
        // `x = x` (a front end's "same object" rebinding) loses nothing.
        const selfAssign = effect.source !== null && "var" in effect.source && effect.source.var === effect.target;
        const w = writable();
        if (!selfAssign) lostReferences(w, effect.target, span, recorder);
        w.vars.set(effect.target, sources.length > 0 ? [...sources] : [UNTRACKED]);
        break;
      }
      case "release": {
        const sites = sitesOf(next, effect.ref);
        if (sites.some((s) => s >= 0)) releaseSites(writable(), sites, effect.span, recorder);
        break;
      }
      case "transfer":
        for (const site of sitesOf(next, effect.ref)) {
          if (site < 0 || !next.sites.has(site)) continue;
          if (lent?.has(site) && WEAK_TRANSFERS.has(effect.reason)) {
            const bits = next.sites.get(site) ?? 0;
            if (bits & PENDING) writable().sites.set(site, (bits & ~PENDING) | OWNED);
            continue;
          }
          writable().sites.set(site, TRANSFERRED);
          recorder?.transfer(site, effect.reason);
        }
        break;
      case "use": {
        recorder?.use(sitesOf(next, effect.ref), next, effect.span);
        // The first use of a lazily acquired value is where it takes its connection.
        for (const site of sitesOf(next, effect.ref)) {
          const bits = site < 0 ? undefined : next.sites.get(site);
          if (bits !== undefined && bits & PENDING) writable().sites.set(site, (bits & ~PENDING) | OWNED);
        }
        break;
      }
      case "absent":
        // This path holds nothing: drop the "owned" possibility; released or transferred fates stay.
        for (const site of sitesOf(next, effect.ref)) {
          const bits = site < 0 ? undefined : next.sites.get(site);
          if (bits === undefined || !(bits & HELD)) continue;
          const rest = bits & ~HELD;
          if (rest === 0) writable().sites.delete(site);
          else writable().sites.set(site, rest);
        }
        break;
      case "parent": {
        const parents = sitesOf(next, effect.parent).filter((s) => s >= 0);
        if (parents.length !== 1) break;
        for (const child of sitesOf(next, effect.child)) if (child >= 0) writable().parents.set(child, parents[0]);
        break;
      }
    }
  }
  return next;
}

/** The state an exception edge carries: lazily acquired values not used yet hold nothing. */
function withoutPending(state: State): State {
  let out: State | null = null;
  for (const [site, bits] of state.sites) {
    if (!(bits & PENDING)) continue;
    out ??= clone(state);
    const rest = bits & ~PENDING;
    if (rest === 0) out.sites.delete(site);
    else out.sites.set(site, rest);
  }
  return out ?? state;
}

/**
 * Variables that can ever point to an acquired value: bound by an acquisition, or assigned
 * from a temporary or from such a variable (least fixpoint over the graph's effects). Any
 * other variable holds nothing tracked on every path, and then every effect on it is a
 * no-op: its uses, releases and transfers reach no site (absent or UNTRACKED alike), and
 * assigning it to a tracked variable gives UNTRACKED either way. Dropping those variables
 * from the states changes no result; in a long function with hundreds of locals and a
 * handful of resources, the states (and every join) shrink from all locals to a few.
 */
function trackedVariables(graph: FlowGraph): Set<string> {
  const tracked = new Set<string>();
  const assigns: { target: string; source: string }[] = [];
  for (const node of graph.nodes) {
    for (const effect of node.effects) {
      if (effect.kind === "acquire" && effect.bind !== null) tracked.add(effect.bind);
      else if (effect.kind === "assign" && effect.source) {
        if ("temp" in effect.source) tracked.add(effect.target);
        else if (effect.source.var !== effect.target) assigns.push({ target: effect.target, source: effect.source.var });
      }
    }
  }
  let grew = tracked.size > 0;
  while (grew) {
    grew = false;
    for (const { target, source } of assigns) {
      if (tracked.has(source) && !tracked.has(target)) {
        tracked.add(target);
        grew = true;
      }
    }
  }
  return tracked;
}

/** The graph with every effect on a never-tracked variable removed (the same graph when there is none). */
function withoutUntrackedVariables(graph: FlowGraph): FlowGraph {
  const tracked = trackedVariables(graph);
  const relevant = (effect: Effect): boolean => {
    switch (effect.kind) {
      case "acquire":
        return true;
      case "assign":
        return tracked.has(effect.target);
      case "parent":
        return !("var" in effect.child && !tracked.has(effect.child.var)) && !("var" in effect.parent && !tracked.has(effect.parent.var));
      default:
        return !("var" in effect.ref) || tracked.has(effect.ref.var);
    }
  };
  let nodes: FlowGraph["nodes"] | null = null;
  graph.nodes.forEach((node, i) => {
    if (node.effects.every(relevant)) return;
    nodes ??= graph.nodes.slice();
    nodes[i] = { ...node, effects: node.effects.filter(relevant) };
  });
  return nodes ? { ...graph, nodes } : graph;
}

/** Run the dataflow to a fixpoint and report every site's fate. */
export function analyzeResources(graph: FlowGraph, options: AnalyzeOptions = {}): FlowResult {
  // Without an acquisition no site ever exists: nothing to report.
  if (!graph.nodes.some((node) => node.effects.some((effect) => effect.kind === "acquire"))) return { sites: new Map(), usesAfterRelease: [] };
  const tracked = withoutUntrackedVariables(graph);
  const first = analyzeTracked(tracked, options, null);
  if (first.lent.size === 0) return first.result;
  return analyzeTracked(tracked, options, first.lent).result;
}

/**
 * Does `site` still leak through an exception once it counts as holding something only
 * from its first use on? (A SQLAlchemy session checks out its connection on first use:
 * an exception between creating it and using it leaves nothing checked out.) The graph
 * is analysed again with that one acquisition made lazy.
 */
export function leaksOnExceptionAfterUse(graph: FlowGraph, site: number, options: AnalyzeOptions = {}): boolean {
  const nodes = graph.nodes.map((node) =>
    node.effects.some((e) => e.kind === "acquire" && e.site === site)
      ? { ...node, effects: node.effects.map((e) => (e.kind === "acquire" && e.site === site ? { ...e, lazy: true } : e)) }
      : node,
  );
  const report = analyzeResources({ ...graph, nodes }, options).sites.get(site);
  return report?.leaksOnException === true;
}

/** Nodes reached from the entry without taking an exception edge (the function's normal paths). */
function normalNodes(graph: FlowGraph): Set<NodeId> {
  const seen = new Set<NodeId>([graph.entry]);
  const stack: NodeId[] = [graph.entry];
  while (stack.length > 0) {
    const id = stack.pop() as NodeId;
    for (const edge of graph.nodes[id].succ) {
      if (edge.kind === "exception" || seen.has(edge.to)) continue;
      seen.add(edge.to);
      stack.push(edge.to);
    }
  }
  return seen;
}

function analyzeTracked(graph: FlowGraph, options: AnalyzeOptions, lent: ReadonlySet<number> | null): { result: FlowResult; lent: Set<number> } {
  const missing = options.unboundIsNotAValue ? UNBOUND : UNTRACKED;
  const inStates = new Map<NodeId, State>();
  inStates.set(graph.entry, emptyState());
  // A FIFO queue read by an index (Array.shift is linear in the queue's length).
  const work: NodeId[] = [graph.entry];
  let head = 0;
  const queued = new Set<NodeId>(work);
  let steps = 0;
  const limit = graph.nodes.length * 64 + 1000;
  while (head < work.length && steps++ < limit) {
    const id = work[head++] as NodeId;
    if (head > 4096 && head * 2 > work.length) {
      work.splice(0, head);
      head = 0;
    }
    queued.delete(id);
    const node = graph.nodes[id];
    const input = inStates.get(id) ?? emptyState();
    const normal = apply(input, node.effects, false, null, node.span, lent);
    // Without an acquisition the exceptional edge carries the same state as the normal one.
    const exceptional = withoutPending(
      node.succ.some((e) => e.kind === "exception") && node.effects.some((e) => e.kind === "acquire") ? apply(input, node.effects, true, null, node.span, lent) : normal,
    );
    for (const edge of node.succ) {
      const out = edge.kind === "exception" ? exceptional : normal;
      const { state, changed } = join(inStates.get(edge.to), out, missing);
      inStates.set(edge.to, state);
      if (changed && !queued.has(edge.to)) {
        work.push(edge.to);
        queued.add(edge.to);
      }
    }
  }

  // Replay every node once on its fixpoint input, recording what happens.
  const sites = new Map<number, SiteReport>();
  const report = (site: number): SiteReport => {
    let r = sites.get(site);
    if (!r) {
      r = { site, leaksOnNormalExit: false, leaksOnException: false, overwrittenAt: null, releases: [], transfers: [], leakingExits: [] };
      sites.set(site, r);
    }
    return r;
  };
  const usesAfterRelease: UseAfterRelease[] = [];
  // Walked only when a release follows a hand-off (rare): most graphs never need it.
  let onNormalPath: Set<NodeId> | null = null;
  const normal = (id: NodeId): boolean => {
    onNormalPath ??= normalNodes(graph);
    return onNormalPath.has(id);
  };
  // Sites released on a normal path after a hand-off: lent, if every hand-off was a weak one.
  const releasedAfterTransfer = new Set<number>();
  let current: NodeId = graph.entry;
  const recorder: Recorder = {
    overwritten(site, span) {
      const r = report(site);
      r.overwrittenAt ??= span;
    },
    release(site, span, before) {
      const r = report(site);
      if (lent === null && before & TRANSFERRED && normal(current)) releasedAfterTransfer.add(site);
      if (!r.releases.some((s) => s.start.line === span.start.line && s.start.column === span.start.column)) r.releases.push(span);
    },
    transfer(site, reason) {
      const r = report(site);
      if (!r.transfers.includes(reason)) r.transfers.push(reason);
    },
    use(allSites, state, span) {
      const useSites = allSites.filter((s) => s !== UNBOUND);
      if (useSites.length === 0 || useSites.includes(UNTRACKED)) return;
      if (!useSites.every((s) => state.sites.get(s) === RELEASED)) return;
      for (const site of useSites) usesAfterRelease.push({ site, use: span, releasedAt: [] });
    },
  };
  for (const node of graph.nodes) {
    const input = inStates.get(node.id);
    if (!input) continue; // unreachable
    for (const effect of node.effects) if (effect.kind === "acquire") report(effect.site);
    current = node.id;
    apply(input, node.effects, false, recorder, node.span, lent);
  }
  for (const [exitId, exceptional] of [
    [graph.exit, false],
    [graph.raiseExit, true],
  ] as const) {
    const state = inStates.get(exitId);
    if (!state) continue;
    for (const [site, bits] of state.sites) {
      // A lazy value never used holds nothing when an exception leaves; at the normal exit it was never released.
      if (!(bits & (exceptional ? OWNED : HELD))) continue;
      const r = report(site);
      if (exceptional) r.leaksOnException = true;
      else r.leaksOnNormalExit = true;
      r.leakingExits.push({ node: exitId, exceptional });
    }
  }
  for (const use of usesAfterRelease) use.releasedAt = sites.get(use.site)?.releases ?? [];
  for (const r of sites.values()) r.releases.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column);
  // A use reported once per position (a node replay can see the same use twice through aliases).
  const seen = new Set<string>();
  const uniqueUses = usesAfterRelease.filter((u) => {
    const key = `${u.site}:${u.use.start.line}:${u.use.start.column}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const nowLent = new Set<number>();
  for (const site of releasedAfterTransfer) {
    const transfers = sites.get(site)?.transfers ?? [];
    if (transfers.length > 0 && transfers.every((t) => WEAK_TRANSFERS.has(t))) nowLent.add(site);
  }
  return { result: { sites, usesAfterRelease: uniqueUses }, lent: nowLent };
}

/** The verdict most rules want for one site. */
export type Verdict =
  | { kind: "ok" }
  /** The only reference was overwritten while it still owned the value (a loop re-acquiring, `s = f(); s = f()`). */
  | { kind: "overwritten"; at: Span }
  | {
      kind: "leak";
      /** Leaks on a normal way out (return / end of body). */
      normal: boolean;
      /** Leaks when an exception is raised. */
      exception: boolean;
      /** Where it is released on the paths that do release it (empty: never). */
      releases: Span[];
      /** It is handed away on some other path. */
      transferred: boolean;
    };

export function verdictFor(result: FlowResult, site: number): Verdict {
  const r = result.sites.get(site);
  if (!r) return { kind: "ok" };
  if (r.overwrittenAt) return { kind: "overwritten", at: r.overwrittenAt };
  if (!r.leaksOnNormalExit && !r.leaksOnException) return { kind: "ok" };
  return { kind: "leak", normal: r.leaksOnNormalExit, exception: r.leaksOnException, releases: r.releases, transferred: r.transfers.length > 0 };
}
