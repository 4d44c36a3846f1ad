import type { Position } from "../types.ts";

// One small control-flow graph per function, shared by both languages. Each language
// front end (tree-sitter Python, the TypeScript compiler API) lowers its syntax through
// the GraphBuilder below; the resource dataflow (resource-flow.ts) runs on the result
// and every lifecycle rule is a query on that dataflow.
//
// Nodes carry *effects* on tracked values, in evaluation order. The front end decides
// what a call does (acquire, release, transfer, borrow) from the library models and the
// project's function summaries; the graph and the dataflow know nothing of libraries.

export type NodeId = number;

/** Where something happened, for messages and fixes. */
export type Span = { start: Position; end: Position };

/**
 * A reference to a tracked value: a local variable or an access path such as
 * `self.session` / `this.runner` (front ends spell paths with dots), or an unbound
 * temporary created by an acquisition that was never bound to a name.
 */
export type Ref = { var: string } | { temp: number };

/** Why ownership left the function (no leak, and no use-after-release either). */
export type TransferReason =
  | "returned"
  | "yielded-out" // a generator handing the value to a consumer that owns it (pytest fixtures, contextmanagers)
  | "stored-field" // this.x = v / self.x = v: the class is now responsible (class-level check)
  | "stored-container" // list.append(v), map.set(k, v), obj.prop = v on a non-self object
  | "passed-owner" // handed to a callee that takes ownership (model or summary says so)
  | "passed-unknown-owner" // handed to something that may keep it (constructor of an object that outlives the call)
  | "captured" // captured by a closure that outlives the function
  | "exit-stack"; // ExitStack / AsyncExitStack / DisposableStack

export type Effect =
  /** A fresh resource is created at `site`; `bind` names the variable it is bound to (or null: a temporary). */
  | {
      kind: "acquire";
      site: number;
      bind: string | null;
      /** Holds nothing until its first use (a TypeORM query runner connects on first use): an exception before that leaks nothing. */
      lazy?: boolean;
    }
  /** `target = source`: an alias when source refers to tracked values; `source: null` rebinds to something untracked. */
  | { kind: "assign"; target: string; source: Ref | null }
  /** The values `ref` points to are released (close, release, end, dispose, commit/rollback for transactions). */
  | { kind: "release"; ref: Ref; span: Span; how: string }
  /** Ownership leaves the function. */
  | { kind: "transfer"; ref: Ref; reason: TransferReason; span: Span }
  /** The value is used (a method call, attribute read, passed as a borrowed argument). */
  | { kind: "use"; ref: Ref; span: Span }
  /** A child resource's lifetime ends with its parent's: releasing `parent` releases `child` too. */
  | { kind: "parent"; child: Ref; parent: Ref }
  /**
   * On this path `ref` holds no resource (`if (!client) return;`, the error branch of a callback
   * `(err, client) => { if (err) ... }`): the values it may point to were not acquired here.
   */
  | { kind: "absent"; ref: Ref };

export type EdgeKind = "normal" | "true" | "false" | "exception" | "may-skip";

export type Edge = { to: NodeId; kind: EdgeKind };

export type NodeKind =
  | "entry"
  | "exit" // normal completion or return
  | "raise-exit" // an exception leaves the function
  | "statement"
  | "join"
  | "dispatch" // entry of an exception handler chain
  | "yield"; // a suspension point where the consumer may abandon a generator

export type FlowNode = {
  id: NodeId;
  kind: NodeKind;
  effects: Effect[];
  /** Outgoing edges; exception edges carry the state after non-acquire effects. */
  succ: Edge[];
  span: Span | null;
  /** Front-end payload (e.g. the syntax node) for rules and fixes. */
  label?: string;
};

export type FlowGraph = {
  nodes: FlowNode[];
  entry: NodeId;
  exit: NodeId;
  raiseExit: NodeId;
};

/** A catch clause: `catchesAll` when it is bare / `Exception` / `BaseException` / untyped `catch`. */
export type Handler = { catchesAll: boolean; body: () => void };

type Frame =
  | { kind: "try"; exceptionTarget: NodeId }
  | { kind: "finally"; body: () => void; outer: Frame[] }
  | { kind: "loop"; breakTarget: NodeId; continueTarget: NodeId; label: string | null };

/**
 * Builds a FlowGraph from structured statements. Front ends call these methods while
 * walking a function body; `current` is the node the next statement follows (null when
 * the code is unreachable, e.g. after `return`).
 *
 * `finally` bodies are lowered once per way of leaving the protected block (fall
 * through, exception, return, break, continue): the classic duplication that keeps the
 * graph path-precise without a return-address variable. Bodies are passed as callbacks so
 * they can be lowered more than once.
 */
export class GraphBuilder {
  readonly nodes: FlowNode[] = [];
  readonly entry: NodeId;
  readonly exit: NodeId;
  readonly raiseExit: NodeId;
  current: NodeId | null;
  private frames: Frame[] = [];

  constructor() {
    this.entry = this.node("entry", [], null);
    this.exit = this.node("exit", [], null);
    this.raiseExit = this.node("raise-exit", [], null);
    this.current = this.entry;
  }

  graph(): FlowGraph {
    return { nodes: this.nodes, entry: this.entry, exit: this.exit, raiseExit: this.raiseExit };
  }

  get reachable(): boolean {
    return this.current !== null;
  }

  node(kind: NodeKind, effects: Effect[], span: Span | null, label?: string): NodeId {
    const id = this.nodes.length;
    this.nodes.push({ id, kind, effects, succ: [], span, label });
    return id;
  }

  edge(from: NodeId, to: NodeId, kind: EdgeKind = "normal"): void {
    const succ = this.nodes[from].succ;
    if (!succ.some((e) => e.to === to && e.kind === kind)) succ.push({ to, kind });
  }

  /** Where an exception raised here goes: the innermost handler or finally, else out of the function. */
  private exceptionTarget(frames: Frame[] = this.frames): NodeId {
    for (let i = frames.length - 1; i >= 0; i--) {
      const frame = frames[i];
      if (frame.kind === "try") return frame.exceptionTarget;
      if (frame.kind === "finally") {
        // An exception leaving a try/finally runs the finally, then propagates outward.
        const saved = this.frames;
        const savedCurrent = this.current;
        const start = this.node("join", [], null, "finally (exception)");
        this.frames = frame.outer;
        this.current = start;
        frame.body();
        // Re-raise after the finally: a plain edge, the finally's own effects have all run.
        if (this.current !== null) this.edge(this.current, this.exceptionTarget(frame.outer));
        this.frames = saved;
        this.current = savedCurrent;
        // Cache: later raisers in the same protected block share this copy.
        frames[i] = { kind: "try", exceptionTarget: start };
        frames.splice(i, 0, frame);
        return start;
      }
    }
    return this.raiseExit;
  }

  /**
   * Append a statement-like node with its effects. `mayThrow` adds an exception edge
   * (calls, awaits, attribute access on unknown objects, explicit raise).
   */
  add(effects: Effect[], span: Span | null, options: { mayThrow?: boolean; kind?: NodeKind; label?: string } = {}): NodeId | null {
    if (this.current === null) return null;
    const id = this.node(options.kind ?? "statement", effects, span, options.label);
    this.edge(this.current, id);
    if (options.mayThrow) this.edge(id, this.exceptionTarget(), "exception");
    this.current = id;
    return id;
  }

  /** A generator suspension: the consumer may resume it, throw into it (GeneratorExit, cancellation) or never resume. */
  yieldPoint(effects: Effect[], span: Span | null, label?: string): void {
    this.add(effects, span, { mayThrow: true, kind: "yield", label });
  }

  /** `raise` / `throw`: the current path goes to the exception target. */
  raise(effects: Effect[], span: Span | null): void {
    if (this.current === null) return;
    const id = this.node("statement", effects, span, "raise");
    this.edge(this.current, id);
    this.edge(id, this.exceptionTarget(), "exception");
    this.current = null;
  }

  /** `return`: runs every enclosing finally (innermost first), then leaves. Effects run first (the returned value's transfer). */
  return(effects: Effect[], span: Span | null): void {
    if (this.current === null) return;
    const id = this.node("statement", effects, span, "return");
    this.edge(this.current, id);
    this.current = id;
    this.unwindTo(null);
    if (this.current !== null) this.edge(this.current, this.exit);
    this.current = null;
  }

  /** `break` / `continue` (optionally labelled): runs the finally blocks between here and the loop. */
  jump(kind: "break" | "continue", label: string | null = null): void {
    if (this.current === null) return;
    const loopIndex = this.findLoop(label);
    if (loopIndex < 0) {
      this.current = null;
      return;
    }
    const loop = this.frames[loopIndex] as Extract<Frame, { kind: "loop" }>;
    this.unwindTo(loopIndex);
    if (this.current !== null) this.edge(this.current, kind === "break" ? loop.breakTarget : loop.continueTarget);
    this.current = null;
  }

  private findLoop(label: string | null): number {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const frame = this.frames[i];
      if (frame.kind === "loop" && (label === null || frame.label === label)) return i;
    }
    return -1;
  }

  /** Lower the finally bodies of frames above `stopIndex` (all when null), innermost first. */
  private unwindTo(stopIndex: number | null): void {
    const saved = this.frames;
    for (let i = saved.length - 1; i > (stopIndex ?? -1); i--) {
      const frame = saved[i];
      if (frame.kind !== "finally") continue;
      this.frames = frame.outer;
      frame.body();
      if (this.current === null) break;
    }
    this.frames = saved;
  }

  /** if / else, ternaries, `&&` / `||` short circuits, match arms (chain them). */
  branch(cond: { effects: Effect[]; span: Span | null; mayThrow?: boolean } | null, whenTrue: () => void, whenFalse: (() => void) | null): void {
    if (this.current === null) return;
    if (cond) this.add(cond.effects, cond.span, { mayThrow: cond.mayThrow });
    const fork = this.current;
    if (fork === null) return;
    const join = this.node("join", [], null);
    let joined = false;
    this.current = fork;
    whenTrue();
    if (this.current !== null) {
      this.edge(this.current, join);
      joined = true;
    }
    this.current = fork;
    if (whenFalse) whenFalse();
    if (this.current !== null) {
      this.edge(this.current, join);
      joined = true;
    }
    this.current = joined ? join : null;
  }

  /** Any number of alternatives from one point (switch/match cases, `elif` chains). `fallsThroughIfNone`: no case may match. */
  alternatives(arms: (() => void)[], fallsThroughIfNone: boolean): void {
    if (this.current === null) return;
    const fork = this.current;
    const join = this.node("join", [], null);
    let joined = false;
    for (const arm of arms) {
      this.current = fork;
      arm();
      if (this.current !== null) {
        this.edge(this.current, join);
        joined = true;
      }
    }
    if (fallsThroughIfNone) {
      this.edge(fork, join);
      joined = true;
    }
    this.current = joined ? join : null;
  }

  /**
   * Loops (`for`, `while`, `do`, `for...of`, `async for`). The body may run zero times
   * (`mayRunZeroTimes`) or at least once (`do`); `orElse` is Python's loop `else`
   * (runs when the loop ends without `break`).
   */
  loop(
    head: { effects: Effect[]; span: Span | null; mayThrow?: boolean } | null,
    body: () => void,
    options: { mayRunZeroTimes?: boolean; orElse?: (() => void) | null; label?: string | null; infinite?: boolean } = {},
  ): void {
    if (this.current === null) return;
    const top = this.node("join", [], null, "loop");
    this.edge(this.current, top);
    this.current = top;
    if (head) this.add(head.effects, head.span, { mayThrow: head.mayThrow });
    const afterHead = this.current ?? top;
    const exitJoin = this.node("join", [], null, "loop exit");
    const breakTarget = this.node("join", [], null, "break");
    this.frames.push({ kind: "loop", breakTarget, continueTarget: top, label: options.label ?? null });
    this.current = afterHead;
    body();
    if (this.current !== null) this.edge(this.current, top);
    this.frames.pop();
    // Leaving normally: the condition is false (or the iterator is exhausted).
    if (!options.infinite) {
      if (options.mayRunZeroTimes !== false) this.edge(afterHead, exitJoin);
      else this.edge(top, exitJoin);
      this.current = exitJoin;
      if (options.orElse) options.orElse();
      if (this.current !== null) this.edge(this.current, breakTarget);
    }
    const reached = this.nodes.some((n) => n.succ.some((e) => e.to === breakTarget));
    this.current = reached ? breakTarget : null;
  }

  /**
   * try / except|catch / else / finally. Exceptions raised in `body` go to the handlers
   * (and on outward when no handler catches everything); exceptions raised in handlers
   * or `orElse` go to the finally, then outward.
   */
  try(parts: { body: () => void; handlers: Handler[]; orElse?: (() => void) | null; finally?: (() => void) | null }): void {
    if (this.current === null) return;
    const outerFrames = this.frames;
    const finallyFrame: Frame | null = parts.finally ? { kind: "finally", body: parts.finally, outer: outerFrames } : null;
    const withFinally = finallyFrame ? [...outerFrames, finallyFrame] : outerFrames;
    const afterAll = this.node("join", [], null, "after try");
    let reachedAfter = false;
    const normalExit = (): void => {
      if (this.current === null) return;
      if (parts.finally) {
        this.frames = outerFrames;
        parts.finally();
      }
      if (this.current !== null) {
        this.edge(this.current, afterAll);
        reachedAfter = true;
      }
    };

    const dispatch = parts.handlers.length > 0 ? this.node("dispatch", [], null, "except") : null;
    // Body
    this.frames = dispatch !== null ? [...withFinally, { kind: "try", exceptionTarget: dispatch }] : [...withFinally];
    parts.body();
    if (this.current !== null) {
      this.frames = [...withFinally];
      if (parts.orElse) parts.orElse();
      normalExit();
    }
    // Handlers
    if (dispatch !== null) {
      this.frames = [...withFinally];
      for (const handler of parts.handlers) {
        this.current = dispatch;
        this.frames = [...withFinally];
        handler.body();
        normalExit();
        this.frames = [...withFinally];
      }
      if (!parts.handlers.some((h) => h.catchesAll)) {
        this.frames = [...withFinally];
        this.edge(dispatch, this.exceptionTarget(), "exception");
      }
    }
    this.frames = outerFrames;
    this.current = reachedAfter ? afterAll : null;
  }

  /** A nested function or callback body lowered inline: `mustRun` in sequence, otherwise as a branch that may be skipped. */
  callback(body: () => void, mode: "must-run" | "may-run"): void {
    if (this.current === null) return;
    if (mode === "must-run") {
      body();
      return;
    }
    const fork = this.current;
    const join = this.node("join", [], null, "callback");
    body();
    if (this.current !== null) this.edge(this.current, join);
    this.edge(fork, join, "may-skip");
    this.current = join;
  }

  /** Falling off the end of the function body. */
  finish(): FlowGraph {
    if (this.current !== null) this.edge(this.current, this.exit);
    this.current = null;
    return this.graph();
  }
}
