import { type Effect, type FlowGraph, GraphBuilder, type Ref, type Span, type TransferReason } from "../../flow/graph.ts";
import type { ResourceFacts } from "../../flow/models.ts";
import { analyzeResources, type FlowResult } from "../../flow/resource-flow.ts";
import { descendantsOf, endOf, isAsyncNode, type SyntaxNode, startOf } from "../parse.ts";
import { anySessionType, type CallFacts, conventionalReceiverType, lastSegment, type ModuleResolver, refineReturn, unknown, type Val } from "./resolve.ts";
import { isTestDouble } from "./test-doubles.ts";

// Lowers one tree-sitter Python function onto the shared GraphBuilder, with resource
// effects decided by the models and summaries (resolve.ts), then runs the dataflow.
// The walk is pure (it only calls the builder and fills tables keyed by syntax node),
// so `finally` bodies can be lowered once per way out, as the builder requires.

export type SiteHow = "call" | "with" | "enter" | "param";

export type SiteInfo = {
  id: number;
  type: string;
  facts: ResourceFacts;
  /** The acquiring call (or the with item's value). */
  call: SyntaxNode;
  /** The statement holding it: the finding's span. */
  statement: SyntaxNode;
  bind: string | null;
  awaited: boolean;
  how: SiteHow;
  /** Acquired by `with`/`async with`: released when the block ends. */
  managed: boolean;
  /** The managed value is a guess from the bound name (an unknown context manager bound to `session`). */
  guessed: boolean;
  /** The receiver's text for method acquisitions (`pool` in `pool.acquire()`). */
  receiver: string | null;
  /** The callee's source text. */
  callee: string;
  origin: CallFacts["origin"] | "with";
  /** For `__aenter__`/`__enter__` sites: the context manager's text (`self._cm`, `get_session()`). */
  entered: string | null;
  /** Yielded by a generator on some path. */
  yielded: boolean;
  /** Not acquired here: a session the generator yields and then cleans up after the `yield` (see adoptYielded). */
  adopted?: boolean;
  /** Parameter index (summary mode). */
  param: number | null;
  /** The `self.<name>` / `cls.<name>` field it was stored in, if any: the class then owns it. */
  field: string | null;
  /** A project helper that returns the resource on some paths only (None when it fails): a close in a fix could meet None. */
  maybeNone?: boolean;
};

/** A use that runs after the with block ended: a closure or a deferred call that outlives the block. */
export type DeferredUse = { site: number; use: SyntaxNode };

export type LoweredFunction = {
  fn: SyntaxNode;
  name: string;
  scope: string;
  isAsync: boolean;
  isGenerator: boolean;
  decorators: string[];
  params: string[];
  graph: FlowGraph;
  result: FlowResult;
  sites: SiteInfo[];
  /** Per return statement: the sites the returned value may be, and its resolved value. */
  returns: { sites: number[]; val: Val; node: SyntaxNode }[];
  yields: { sites: number[]; val: Val; node: SyntaxNode }[];
  /** Parameters called directly in the body. */
  calledParams: number[];
  deferredUses: DeferredUse[];
  /** Names declared `global`. */
  globals: Set<string>;
  /** The function was too large to follow (over the graph-node budget) and was not analysed. */
  truncated: boolean;
  /** Parameters it enters (`await cm.__aenter__()`) and never exits (summary mode): the caller owes the exit. */
  enteredParams: number[];
};

export type LowerMode = "analyze" | "summary";

const paramFacts: ResourceFacts = { rule: "session-not-closed", noun: "parameter", releaseMethods: [], releaseAwait: "never", protocols: [], finallyRelease: null };
/** The value a call of parameter N gives (`return f()`), for summaries: `param-call:N`. */
export const paramCallPrefix = "param-call:";
/** The type of an instance of a project class: `instance:` and the class's qualified name. */
export const instancePrefix = "instance:";
const genericRelease = new Set(["close", "aclose", "release", "dispose", "terminate", "ensure_closed", "remove"]);
const exitStackMethods = new Set(["enter_context", "enter_async_context", "push_async_callback", "push_async_exit", "callback", "push"]);
const containerMethods = new Set(["append", "add", "put", "put_nowait", "extend", "insert", "setdefault", "appendleft", "update", "register"]);
/** Standard callees that run their function argument now, by name: position of the function. */
const invokeNow: Record<string, number> = { greenlet_spawn: 0, to_thread: 0, run_in_threadpool: 0, run_sync: 0, run_in_executor: 1 };
/** Callees that run what they are given later: closures and arguments handed to them outlive the statement. */
const deferral = new Set([
  "create_task",
  "ensure_future",
  "call_soon",
  "call_later",
  "call_at",
  "call_soon_threadsafe",
  "add_done_callback",
  "add_task",
  "start_soon",
  "submit",
  "Thread",
  "Timer",
  "add_listener",
  "subscribe",
  "on",
  "schedule",
]);
const sessionish = /session|^sess$|^db$/i;

function spanOf(node: SyntaxNode): Span {
  return { start: startOf(node), end: endOf(node) };
}

function hasCall(node: SyntaxNode): boolean {
  // A call, a subscript or an await: the text has a bracket or the keyword (cheaper than walking the subtree).
  return /[([]|\bawait\b|\byield\b/.test(node.text);
}

/**
 * Does the method call a factory its class was given in `__init__` (`self._Session = Session`,
 * a parameter whose name or annotation matches `relevant`)? Such a method names no literal itself.
 */
export function callsInjectedFactory(fn: SyntaxNode, relevant: RegExp): boolean {
  const cls = fn.parent?.type === "block" ? fn.parent.parent : fn.parent?.parent?.type === "block" ? fn.parent.parent.parent : null;
  if (cls?.type !== "class_definition" || !/\bself\.\w+\(/.test(fn.text)) return false;
  for (const st of cls.childForFieldName("body")?.namedChildren ?? []) {
    const def = st.type === "decorated_definition" ? st.childForFieldName("definition") : st;
    if (def?.type !== "function_definition" || def.childForFieldName("name")?.text !== "__init__" || def.id === fn.id) continue;
    const { names, annotations } = parameterNames(def);
    for (const a of descendantsOf(def.childForFieldName("body") ?? def, "assignment")) {
      const left = a.childForFieldName("left");
      const right = a.childForFieldName("right");
      if (left?.type !== "attribute" || left.childForFieldName("object")?.text !== "self" || right?.type !== "identifier") continue;
      const index = names.indexOf(right.text);
      if (index < 0 || !(relevant.test(right.text) || relevant.test(annotations[index]?.text ?? ""))) continue;
      if (fn.text.includes(`${left.text}(`)) return true;
    }
  }
  return false;
}

/** `[]`, `{"a": 1}`, `(x, "y")`: a display of names and constants builds an object and cannot raise (a bracket is no call). */
function isPlainLiteral(node: SyntaxNode): boolean {
  switch (node.type) {
    case "identifier":
    case "integer":
    case "float":
    case "true":
    case "false":
    case "none":
      return true;
    case "string":
      return node.namedChildren.every((c) => c.type !== "interpolation" || !hasCall(c));
    case "list":
    case "tuple":
    case "set":
    case "dictionary":
    case "pair":
      return node.namedChildren.every((c) => c.type === "comment" || isPlainLiteral(c));
    default:
      return false;
  }
}

/** `a`, `self.x`, `request.app.state.db`: a name or access path the dataflow can track. */
/** The name an access chain starts from: `GlobalDB` in `GlobalDB.db().session`. */
function rootIdentifier(node: SyntaxNode): string | null {
  let n: SyntaxNode | null = node;
  while (n) {
    if (n.type === "identifier") return n.text;
    if (n.type === "attribute") n = n.childForFieldName("object");
    else if (n.type === "call") n = n.childForFieldName("function");
    else if (n.type === "subscript") n = n.childForFieldName("value");
    else return null;
  }
  return null;
}

/** The positional arguments of a call, in order (keywords and splats left out). */
function positionalArgs(argsNode: SyntaxNode): SyntaxNode[] {
  return argsNode.namedChildren.filter((c) => c.type !== "comment" && c.type !== "keyword_argument" && c.type !== "list_splat" && c.type !== "dictionary_splat");
}

/** Which argument a call runs right away (`to_thread(f)`, `run_in_executor(None, f)`), from its model or by name. */
function runsNow(facts: CallFacts | null, calleeText: string): number | undefined {
  return facts?.invokesArgs?.find((a) => a.when === "now")?.index ?? invokeNow[lastSegment(calleeText)];
}

function pathOf(node: SyntaxNode): string | null {
  if (node.type === "identifier") return node.text;
  if (node.type === "attribute") {
    const object = node.childForFieldName("object");
    const attribute = node.childForFieldName("attribute");
    if (!object || !attribute) return null;
    const base = pathOf(object);
    return base ? `${base}.${attribute.text}` : null;
  }
  return null;
}

const logMethods = new Set(["debug", "info", "warning", "warn", "error", "exception", "critical", "log"]);
const logReceiver = /^(?:_*(?:log|logger|logging|LOG|LOGGER|Log|Logger)|\w*_(?:log|logger|LOGGER))$/;
/** Calls that may appear in a log call's arguments without making it raise in practice. */
const plainCalls = new Set(["str", "repr", "len", "int", "float", "type", "format", "sorted", "list", "round"]);

/** `name.lower()`, `text.strip()`: case and whitespace methods of `str` build a new string and do no I/O. */
const stringCaseMethods = new Set(["lower", "upper", "casefold", "strip", "lstrip", "rstrip", "title", "capitalize"]);

function isStringCaseCall(call: SyntaxNode): boolean {
  const fn = call.childForFieldName("function");
  if (fn?.type !== "attribute" || fn.childForFieldName("object")?.type !== "identifier") return false;
  if (!stringCaseMethods.has(fn.childForFieldName("attribute")?.text ?? "")) return false;
  return (call.childForFieldName("arguments")?.namedChildren ?? []).every((arg) => arg.type === "string");
}

const metricMethods = new Set(["counter", "incr", "increment", "decr", "decrement", "gauge", "timer", "timing", "histogram", "distribution", "observe", "inc"]);
const metricReceiver = /metric|statsd|^_*stats$|telemetry|prometheus/i;

/**
 * `logger.info("opened " + str(n))`, `print(...)`, `metrics.counter("calls", tags=...)`: the
 * logging module reports a failing handler itself (Handler.handleError) instead of raising, and
 * metrics clients send and forget (a StatsD packet, an in-memory counter), so a log or metrics
 * line between an acquisition and its `try` is not an exception path. Only when the arguments
 * make no other calls than conversions and small formatting helpers of the same module.
 */
export function isLogCall(expr: SyntaxNode): boolean {
  if (expr.type !== "call") return false;
  const fn = expr.childForFieldName("function");
  const args = expr.childForFieldName("arguments");
  if (!fn || !args) return false;
  if (fn.type === "identifier") {
    if (fn.text !== "print") return false;
  } else if (fn.type === "attribute") {
    const method = fn.childForFieldName("attribute")?.text ?? "";
    const object = fn.childForFieldName("object");
    if (!object) return false;
    const receiver = object.type === "attribute" ? (object.childForFieldName("attribute")?.text ?? "") : object.type === "identifier" ? object.text : "";
    const log = logMethods.has(method) && logReceiver.test(receiver);
    const metric = metricMethods.has(method) && metricReceiver.test(receiver);
    if (!log && !metric) return false;
  } else return false;
  return args.descendantsOfType(["call", "await"]).every((call) => {
    if (call.type === "await") return false;
    const callee = call.childForFieldName("function");
    if (callee?.type === "identifier") return plainCalls.has(callee.text) || isFormattingHelper(call, callee.text);
    return callee?.type === "attribute" && ["format", "join"].includes(callee.childForFieldName("attribute")?.text ?? "");
  });
}

/**
 * `fullname(func)` where the module defines `def fullname(o): ...` in a few lines that neither
 * raise, await, nor take part in I/O by name: a formatting helper, as harmless as `str()`.
 */
function isFormattingHelper(call: SyntaxNode, name: string): boolean {
  let root = call;
  while (root.parent) root = root.parent;
  for (const st of root.namedChildren) {
    const def = st.type === "decorated_definition" ? st.childForFieldName("definition") : st;
    if (def?.type !== "function_definition" || def.childForFieldName("name")?.text !== name) continue;
    const body = def.childForFieldName("body");
    if (!body || body.namedChildren.length > 4 || isAsyncNode(def)) return false;
    return !/\b(?:raise|await|yield|open|connect|execute|query|commit|request|get|post|send|write|read)\b/.test(body.text);
  }
  return false;
}

/**
 * Boolean flags a function keeps to remember that it opened a value itself, so it closes only
 * what it opened (`if conn is None: conn = connect(); close_conn = True` ... `finally: if
 * close_conn: conn.close()`): flag name -> the names it vouches for. A flag counts when it is
 * set to `True` later in the same block as `name = <call>`, or set to `name is None` /
 * `not name` before `name` is bound in a block guarded by that same test.
 */
export function ownershipFlags(fn: SyntaxNode): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  const body = fn.childForFieldName("body");
  if (!body || !/\b(?:True|is\s+None|not\s)/.test(body.text)) return flags;
  const add = (flag: string, name: string) => {
    const names = flags.get(flag) ?? [];
    if (!names.includes(name)) names.push(name);
    flags.set(flag, names);
  };
  const assignmentOf = (st: SyntaxNode) => {
    if (st.type !== "expression_statement") return null;
    const a = st.namedChildren[0];
    if (a?.type !== "assignment") return null;
    const left = a.childForFieldName("left");
    const right = a.childForFieldName("right");
    return left?.type === "identifier" && right ? { left: left.text, right } : null;
  };
  const noneTest = (node: SyntaxNode): string | null => {
    if (node.type === "comparison_operator" && /^\w+\s+is\s+None$/.test(node.text)) return node.namedChildren[0]?.text ?? null;
    if (node.type === "not_operator" && node.childForFieldName("argument")?.type === "identifier") return node.childForFieldName("argument")?.text ?? null;
    return null;
  };
  const noneFlags = new Map<string, string>();
  for (const block of descendantsOf(body, "block")) {
    const bound: string[] = [];
    for (const st of block.namedChildren) {
      const a = assignmentOf(st);
      if (!a) continue;
      if (a.right.type === "call" || a.right.type === "await") bound.push(a.left);
      else if (a.right.type === "true") for (const name of bound) add(a.left, name);
      else {
        const tested = noneTest(a.right);
        if (tested) noneFlags.set(a.left, tested);
      }
    }
  }
  for (const [flag, name] of noneFlags) {
    const bindsUnderTest = descendantsOf(body, "if_statement").some((ifs) => {
      const cond = ifs.childForFieldName("condition");
      const consequence = ifs.childForFieldName("consequence");
      if (!cond || !consequence || !(cond.text === flag || noneTest(cond) === name)) return false;
      return consequence.namedChildren.some((st) => {
        const a = assignmentOf(st);
        return a?.left === name && (a.right.type === "call" || a.right.type === "await");
      });
    });
    if (bindsUnderTest) add(flag, name);
  }
  return flags;
}

/**
 * Is `name` a dict this call owns and never lets go of: the function's own `**kwargs`, or a
 * local bound only to `{}`/`dict()`, used only as `name[key]`, `name.get(...)`, `name.pop(...)`
 * and `**name` in calls? Storing a value in it is then no hand-off.
 */
export function localOnlyDict(fn: SyntaxNode, name: string): boolean {
  const params = fn.childForFieldName("parameters");
  const isKwargs = !!params?.namedChildren.some((p) => p.type === "dictionary_splat_pattern" && p.namedChildren[0]?.text === name);
  const body = fn.childForFieldName("body");
  if (!body) return false;
  let boundToLiteral = false;
  for (const id of descendantsOf(body, "identifier")) {
    if (id.text !== name) continue;
    const parent = id.parent;
    if (!parent) return false;
    if (parent.type === "subscript" && parent.childForFieldName("value")?.id === id.id) continue;
    if (parent.type === "dictionary_splat") continue;
    if (parent.type === "attribute" && parent.childForFieldName("object")?.id === id.id) {
      const method = parent.childForFieldName("attribute")?.text;
      if ((method === "get" || method === "pop") && parent.parent?.type === "call") continue;
      return false;
    }
    if (parent.type === "attribute") continue;
    if (parent.type === "keyword_argument" && parent.childForFieldName("name")?.id === id.id) continue;
    if (parent.type === "assignment" && parent.childForFieldName("left")?.id === id.id) {
      const right = parent.childForFieldName("right");
      if (right?.type === "dictionary" || (right?.type === "call" && right.childForFieldName("function")?.text === "dict")) {
        boundToLiteral = true;
        continue;
      }
      return false;
    }
    return false;
  }
  return isKwargs || boundToLiteral;
}

export function decoratorNames(fn: SyntaxNode): string[] {
  const parent = fn.parent;
  if (parent?.type !== "decorated_definition") return [];
  return parent.namedChildren.filter((c) => c.type === "decorator").map((d) => d.text.replace(/^@/, "").replace(/\(.*$/s, "").trim());
}

export function scopeOf(node: SyntaxNode): string {
  const names: string[] = [];
  for (let p: SyntaxNode | null = node.parent; p; p = p.parent) {
    if (p.type === "function_definition" || p.type === "class_definition") names.unshift(p.childForFieldName("name")?.text ?? "?");
  }
  return names.length > 0 ? names.join(".") : "<module>";
}

export function parameterNames(fn: SyntaxNode): { names: string[]; annotations: (SyntaxNode | null)[] } {
  const names: string[] = [];
  const annotations: (SyntaxNode | null)[] = [];
  for (const p of fn.childForFieldName("parameters")?.namedChildren ?? []) {
    let name: string | null = null;
    let annotation: SyntaxNode | null = null;
    if (p.type === "identifier") name = p.text;
    else if (p.type === "typed_parameter") {
      name = p.namedChildren.find((c) => c.type === "identifier")?.text ?? null;
      annotation = p.childForFieldName("type");
    } else if (p.type === "default_parameter" || p.type === "typed_default_parameter") {
      name = p.childForFieldName("name")?.text ?? null;
      annotation = p.childForFieldName("type");
    }
    if (name === null) continue;
    names.push(name);
    annotations.push(annotation);
  }
  const inClass = fn.parent?.type === "block" && fn.parent.parent?.type === "class_definition";
  const decoratedInClass = fn.parent?.type === "decorated_definition" && fn.parent.parent?.type === "block" && fn.parent.parent.parent?.type === "class_definition";
  if ((inClass || decoratedInClass) && !decoratorNames(fn).includes("staticmethod") && names.length > 0) {
    names.shift();
    annotations.shift();
  }
  return { names, annotations };
}

/** Yield nodes that belong to this function (not to nested functions or lambdas). */
export function ownYields(fn: SyntaxNode): SyntaxNode[] {
  const body = fn.childForFieldName("body");
  if (!body || !/\byield\b/.test(body.text)) return [];
  return body.descendantsOfType("yield").filter((y) => {
    for (let p = y.parent; p; p = p.parent) {
      if (p.id === fn.id) return true;
      if (p.type === "function_definition" || p.type === "lambda") return false;
    }
    return false;
  });
}

/** Functions whose graph would exceed this many nodes are not analysed (no findings, no summary). */
export const nodeBudget = 20000;

class TooLarge extends Error {}

/** `element`: the temporary is this element of a returned tuple (`conn, cur = get_conn()`). */
type Res = { val: Val; refs: Ref[]; temp: number | null; element?: number };
const none: Res = { val: unknown(), refs: [], temp: null };

type Closure = { node: SyntaxNode; body: SyntaxNode; captures: string[]; withSites: number[] };

class Lowerer {
  readonly b = new GraphBuilder();
  readonly sites: SiteInfo[] = [];
  private readonly siteByNode = new Map<string, number>();
  private readonly vals = new Map<string, Val>();
  /** Sites a variable may ever hold (flow-insensitive), for method typing and returns. */
  private readonly staticSites = new Map<string, Set<number>>();
  private readonly closures = new Map<string, Closure>();
  readonly returns = new Map<number, { sites: number[]; val: Val; node: SyntaxNode }>();
  readonly yields = new Map<number, { sites: number[]; val: Val; node: SyntaxNode }>();
  readonly deferred = new Map<string, DeferredUse>();
  readonly calledParams = new Set<number>();
  readonly globals = new Set<string>();
  /** Managed (with) sites whose block is being lowered, innermost last. */
  private readonly openWith: number[] = [];
  private statement: SyntaxNode;
  readonly params: string[];
  private readonly paramIndex = new Map<string, number>();

  constructor(
    readonly fn: SyntaxNode,
    readonly r: ModuleResolver,
    readonly mode: LowerMode,
    readonly options: { pytestFixture: boolean; isAsync: boolean; classFields: Record<string, string> },
  ) {
    this.statement = fn;
    const { names, annotations } = parameterNames(fn);
    this.params = names;
    names.forEach((name, i) => {
      this.paramIndex.set(name, i);
      const type = r.annotationType(annotations[i]);
      this.vals.set(name, type ? { k: "type", type } : unknown(name));
    });
    if (/\bglobal\b/.test(fn.text)) for (const g of fn.descendantsOfType("global_statement")) for (const id of g.namedChildren) this.globals.add(id.text);
  }

  run(): void {
    const body = this.fn.childForFieldName("body");
    if (this.mode === "summary") {
      const effects: Effect[] = [];
      this.params.forEach((name, i) => {
        const id = this.newSite(`param:${i}`, "param", paramFacts, this.fn, this.fn, false, name, null, "summary");
        this.sites[id].param = i;
        effects.push({ kind: "acquire", site: id, bind: name });
        this.addStatic(name, id);
      });
      this.b.add(effects, null);
    }
    if (body) this.block(body);
  }

  // ---------- sites ----------

  private newSite(key: string, how: SiteHow, facts: ResourceFacts, call: SyntaxNode, statement: SyntaxNode, awaited: boolean, bind: string | null, type: string | null, origin: SiteInfo["origin"]): number {
    const existing = this.siteByNode.get(key);
    if (existing !== undefined) return existing;
    const id = this.sites.length;
    this.sites.push({
      id,
      type: type ?? "",
      facts,
      call,
      statement,
      bind,
      awaited,
      how,
      managed: how === "with",
      guessed: false,
      receiver: null,
      callee: call.type === "call" ? (call.childForFieldName("function")?.text ?? "") : call.text,
      origin,
      entered: null,
      yielded: false,
      param: null,
      field: null,
    });
    this.siteByNode.set(key, id);
    return id;
  }

  private addStatic(name: string, site: number): void {
    let set = this.staticSites.get(name);
    if (!set) {
      set = new Set();
      this.staticSites.set(name, set);
    }
    set.add(site);
  }

  private sitesOfRef(ref: Ref): number[] {
    if ("temp" in ref) return [ref.temp];
    return [...(this.staticSites.get(ref.var) ?? [])];
  }

  private sitesOfRefs(refs: readonly Ref[]): number[] {
    return [...new Set(refs.flatMap((r) => this.sitesOfRef(r)))];
  }

  private tracked(ref: Ref): boolean {
    return this.sitesOfRef(ref).length > 0;
  }

  // ---------- statements ----------

  private block(block: SyntaxNode): void {
    for (const statement of block.namedChildren) {
      if (!this.b.reachable) return;
      this.stmt(statement);
    }
  }

  private add(effects: Effect[], node: SyntaxNode, mayThrow: boolean): void {
    this.b.add(effects, spanOf(node), { mayThrow });
    // Callbacks handed to callees that may or may not run them (event subscriptions, unknown callees).
    for (const pending of this.takeMayRun()) this.b.callback(() => this.b.add(pending, null), "may-run");
  }

  private stmt(st: SyntaxNode): void {
    // `finally` bodies are lowered once per way out: deeply nested try/finally with many exits grows fast.
    if (this.b.nodes.length > nodeBudget) throw new TooLarge();
    const saved = this.statement;
    this.statement = st;
    try {
      this.stmtInner(st);
    } finally {
      this.statement = saved;
    }
  }

  private stmtInner(st: SyntaxNode): void {
    switch (st.type) {
      case "expression_statement": {
        const expr = st.namedChildren[0];
        if (!expr) return;
        if (expr.type === "assignment") {
          this.assignment(expr, st);
          return;
        }
        if (expr.type === "augmented_assignment") {
          const E: Effect[] = [];
          this.expr(expr.childForFieldName("right"), E);
          this.add(E, st, hasCall(st));
          return;
        }
        if (expr.type === "yield") {
          this.yieldStatement(expr, st);
          return;
        }
        const E: Effect[] = [];
        for (const child of st.namedChildren) this.expr(child, E);
        this.add(E, st, this.mayRaise(expr) && !isLogCall(expr));
        return;
      }
      case "return_statement": {
        const value = st.namedChildren[0];
        if (value?.type === "conditional_expression") {
          const [a, cond, b] = value.namedChildren;
          const E: Effect[] = [];
          this.expr(cond, E);
          this.b.branch(
            { effects: E, span: spanOf(st), mayThrow: hasCall(cond) },
            () => this.returnValue(a, st),
            () => this.returnValue(b, st),
          );
          return;
        }
        this.returnValue(value ?? null, st);
        return;
      }
      case "if_statement":
        this.ifStatement(st);
        return;
      case "for_statement":
        this.forStatement(st);
        return;
      case "while_statement": {
        const cond = st.childForFieldName("condition");
        const body = st.childForFieldName("body");
        const orElse = st.childForFieldName("alternative");
        const E: Effect[] = [];
        this.expr(cond, E);
        const infinite = cond?.text === "True" || cond?.text === "1";
        this.b.loop({ effects: E, span: spanOf(cond ?? st), mayThrow: cond ? hasCall(cond) : false }, () => body && this.block(body), {
          orElse: orElse ? () => this.elseBody(orElse) : null,
          infinite,
        });
        return;
      }
      case "try_statement":
        this.tryStatement(st);
        return;
      case "with_statement":
        this.withStatement(st);
        return;
      case "raise_statement": {
        const E: Effect[] = [];
        for (const child of st.namedChildren) this.expr(child, E);
        this.b.raise(E, spanOf(st));
        return;
      }
      case "break_statement":
        this.b.jump("break");
        return;
      case "continue_statement":
        this.b.jump("continue");
        return;
      case "function_definition":
        this.defineClosure(st, st);
        return;
      case "decorated_definition": {
        const def = st.childForFieldName("definition");
        if (def?.type === "function_definition") {
          this.defineClosure(def, st);
          // `@app.teardown_appcontext def shutdown(): registry.remove()`: a decorator is a call that
          // receives the function and usually registers it, so what it captures outlives this call.
          const closure = this.closures.get(def.childForFieldName("name")?.text ?? "");
          if (closure && closure.captures.length > 0) {
            const E: Effect[] = [];
            this.escapeClosure(closure, E, spanOf(st));
            this.add(E, st, false);
          }
          return;
        }
        return;
      }
      case "delete_statement": {
        const E: Effect[] = [];
        for (const target of st.namedChildren.flatMap((c) => (c.type === "expression_list" ? c.namedChildren : [c]))) {
          const path = pathOf(target);
          if (path) E.push({ kind: "assign", target: path, source: null });
        }
        this.add(E, st, false);
        return;
      }
      case "match_statement": {
        const subject = st.childForFieldName("subject");
        const E: Effect[] = [];
        this.expr(subject, E);
        this.add(E, st, subject ? hasCall(subject) : false);
        const cases = st.childForFieldName("body")?.namedChildren.filter((c) => c.type === "case_clause") ?? [];
        this.b.alternatives(
          cases.map((c) => () => {
            const body = c.namedChildren.find((n) => n.type === "block");
            if (body) this.block(body);
          }),
          true,
        );
        return;
      }
      case "assert_statement": {
        const E: Effect[] = [];
        for (const child of st.namedChildren) this.expr(child, E);
        this.add(E, st, true);
        return;
      }
      default:
        return;
    }
  }

  private elseBody(clause: SyntaxNode): void {
    const body = clause.childForFieldName("body") ?? clause.namedChildren.find((c) => c.type === "block");
    if (body) this.block(body);
  }

  private ifStatement(st: SyntaxNode): void {
    const clauses: { cond: SyntaxNode | null; body: SyntaxNode | null }[] = [{ cond: st.childForFieldName("condition"), body: st.childForFieldName("consequence") }];
    let elseBody: SyntaxNode | null = null;
    for (const alt of st.childrenForFieldName("alternative")) {
      if (alt.type === "elif_clause") clauses.push({ cond: alt.childForFieldName("condition"), body: alt.childForFieldName("consequence") });
      else if (alt.type === "else_clause") elseBody = alt.childForFieldName("body") ?? alt.namedChildren.find((c) => c.type === "block") ?? null;
    }
    const chain = (i: number): void => {
      if (i === clauses.length) {
        if (elseBody) this.block(elseBody);
        return;
      }
      const { cond, body } = clauses[i];
      const E: Effect[] = [];
      this.expr(cond, E);
      const rest = i + 1 < clauses.length || elseBody ? () => chain(i + 1) : null;
      // `if close_conn: conn.close()`: on the branch where the flag is false, the function did not open `conn`.
      const flag = cond ? this.ownershipFlag(cond) : null;
      const notOwned = (names: string[], then: (() => void) | null) => () => {
        this.b.add(
          names.map((name) => ({ kind: "absent", ref: { var: name } }) satisfies Effect),
          null,
        );
        if (then) then();
      };
      const whenTrue = () => body && this.block(body);
      // `if conn:` / `if conn is not None:` after `conn = open_db()` (a wrapper that returns None
      // when it fails): on the branch where the test says None, nothing is held.
      const none = !flag && cond ? this.noneTest(cond) : null;
      const onTrue = flag?.negated ? notOwned(flag.names, whenTrue) : none?.noneWhen === "true" ? notOwned([none.name], whenTrue) : whenTrue;
      const onFalse = flag && !flag.negated ? notOwned(flag.names, rest) : none?.noneWhen === "false" ? notOwned([none.name], rest) : rest;
      this.b.branch({ effects: E, span: spanOf(cond ?? st), mayThrow: cond ? hasCall(cond) : false }, onTrue, onFalse);
    };
    chain(0);
  }

  /**
   * A test of a tracked name against None: `conn` / `conn is not None` (None on the false
   * branch), `not conn` / `conn is None` (None on the true branch). Connections, sessions and
   * engines define no `__bool__` or `__len__`, so only None is falsy among the values a name holds.
   */
  private noneTest(cond: SyntaxNode): { name: string; noneWhen: "true" | "false" } | null {
    let node = cond;
    while (node.type === "parenthesized_expression" && node.namedChildren[0]) node = node.namedChildren[0];
    let noneWhen: "true" | "false" = "false";
    if (node.type === "not_operator") {
      noneWhen = "true";
      node = node.childForFieldName("argument") ?? node;
    }
    if (node.type === "comparison_operator") {
      const m = /^([\w.]+)\s+is\s+(not\s+)?None$/.exec(node.text);
      if (!m) return null;
      const positive = noneWhen === "false";
      // `x is None` is None on the true branch; `x is not None` on the false one (flipped by `not`).
      noneWhen = (m[2] ? positive : !positive) ? "false" : "true";
      node = node.namedChildren[0] ?? node;
    }
    if (node.type !== "identifier" && node.type !== "attribute") return null;
    const path = pathOf(node);
    if (!path || !this.tracked({ var: path })) return null;
    return { name: path, noneWhen };
  }

  /** Flags that record whether this call opened a value: `close_conn = True` right after `conn = connect()`. */
  private flags: Map<string, string[]> | null = null;

  private ownershipFlag(cond: SyntaxNode): { names: string[]; negated: boolean } | null {
    let node = cond;
    let negated = false;
    if (node.type === "not_operator") {
      negated = true;
      node = node.childForFieldName("argument") ?? node;
    }
    if (node.type !== "identifier") return null;
    if (!this.flags) this.flags = ownershipFlags(this.fn);
    const names = this.flags.get(node.text);
    return names ? { names, negated } : null;
  }

  private forStatement(st: SyntaxNode): void {
    const left = st.childForFieldName("left");
    const right = st.childForFieldName("right");
    const body = st.childForFieldName("body");
    const orElse = st.childForFieldName("alternative");
    const isAsyncFor = isAsyncNode(st);
    const E: Effect[] = [];
    const iterable = this.expr(right, E, { iterated: isAsyncFor });
    this.add(E, right ?? st, right ? hasCall(right) : false);
    // `async for s in get_db():` leaves the generator suspended unless it runs to the end.
    const generator = iterable.temp !== null && this.sites[iterable.temp]?.facts.noun === "session generator" ? iterable.temp : null;
    const head: Effect[] = [];
    for (const target of left ? this.targets(left) : []) head.push({ kind: "assign", target, source: null });
    this.b.loop(
      { effects: head, span: spanOf(left ?? st), mayThrow: true },
      () => body && this.block(body),
      {
        orElse: () => {
          if (generator !== null) this.b.add([{ kind: "release", ref: { temp: generator }, span: spanOf(st), how: "exhausted" }], null);
          if (orElse) this.elseBody(orElse);
        },
      },
    );
  }

  private targets(left: SyntaxNode): string[] {
    const path = pathOf(left);
    if (path) return [path];
    return left.namedChildren.flatMap((c) => this.targets(c));
  }

  private tryStatement(st: SyntaxNode): void {
    const body = st.childForFieldName("body");
    const handlers = st.namedChildren.filter((c) => c.type === "except_clause" || c.type === "except_group_clause");
    const orElse = st.namedChildren.find((c) => c.type === "else_clause") ?? null;
    const fin = st.namedChildren.find((c) => c.type === "finally_clause") ?? null;
    this.b.try({
      body: () => body && this.block(body),
      handlers: handlers.map((h) => {
        const block = h.namedChildren.find((c) => c.type === "block") ?? null;
        let typeNode = h.namedChildren.find((c) => c.type !== "block") ?? null;
        let alias: string | null = null;
        if (typeNode?.type === "as_pattern") {
          alias = typeNode.childForFieldName("alias")?.text ?? null;
          typeNode = typeNode.namedChildren[0] ?? null;
        }
        const names = typeNode ? (typeNode.type === "tuple" ? typeNode.namedChildren.map((n) => n.text) : [typeNode.text]) : [];
        const catchesAll = h.type === "except_clause" && (names.length === 0 || names.some((n) => /^(builtins\.)?(Base)?Exception$/.test(n)));
        return {
          catchesAll,
          body: () => {
            if (alias) this.b.add([{ kind: "assign", target: alias, source: null }], null);
            if (alias) this.exceptAliases.push(alias);
            try {
              if (block) this.block(block);
            } finally {
              if (alias) this.exceptAliases.pop();
            }
          },
        };
      }),
      orElse: orElse ? () => this.elseBody(orElse) : null,
      finally: fin
        ? () => {
            const block = fin.namedChildren.find((c) => c.type === "block");
            if (block) this.block(block);
          }
        : null,
    });
  }

  private withStatement(st: SyntaxNode): void {
    const items = st.descendantsOfType("with_item").filter((i) => i.parent?.parent?.id === st.id);
    const body = st.childForFieldName("body");
    const go = (i: number): void => {
      if (i === items.length) {
        if (body) this.block(body);
        return;
      }
      const item = items[i];
      let value = item.childForFieldName("value");
      let alias: SyntaxNode | null = null;
      if (value?.type === "as_pattern") {
        const target = value.childForFieldName("alias");
        alias = target?.namedChildren[0] ?? target ?? null;
        value = value.namedChildren[0] ?? null;
      }
      if (!value) {
        go(i + 1);
        return;
      }
      const aliasName = alias && alias.type === "identifier" ? alias.text : null;
      const E: Effect[] = [];
      const res = this.expr(value, E, { withItem: true });
      const registry = this.registryClosedByWith(value);
      const managed: Ref[] = [...registry];
      let managedSite: number | null = null;
      // Entering a session made earlier (`session = Maker()` then `async with session:`) only
      // returns the session itself (Session.__enter__ / AsyncSession.__aenter__ do no I/O), so
      // there is no exception path between the acquisition and the block that closes it.
      let entersOwnSession = false;
      if (res.temp !== null && this.sites[res.temp].facts.withKeepsOpen) {
        // `with sqlite3.connect(p) as conn:` only commits or rolls back at exit: the connection stays open.
        const site = this.sites[res.temp];
        site.how = "with";
        site.statement = st;
        if (aliasName) this.bindTemp(E, res.temp, aliasName, res.val);
      } else if (res.temp !== null) {
        // `with Session() as s`, `async with pool.acquire() as conn`: acquired and managed here.
        managedSite = res.temp;
        const site = this.sites[res.temp];
        site.managed = true;
        site.how = "with";
        site.statement = st;
        if (aliasName) this.bindTemp(E, res.temp, aliasName, res.val);
        managed.push({ temp: res.temp });
      } else if (res.refs.some((r) => this.tracked(r)) && (value.type === "identifier" || value.type === "attribute")) {
        // `with session:` / `async with db:` on a value acquired earlier: released at exit,
        // unless its `with` only ends a transaction (`conn = sqlite3.connect(p)` then `with conn:`).
        const keepsOpen = this.sitesOfRefs(res.refs).every((id) => this.sites[id].facts.withKeepsOpen);
        if (!keepsOpen) {
          managed.push(...res.refs);
          const sites = this.sitesOfRefs(res.refs);
          entersOwnSession = sites.length > 0 && sites.every((id) => this.sites[id].facts.rule === "session-not-closed");
        } else E.push(...res.refs.map((ref) => ({ kind: "use", ref, span: spanOf(item) }) satisfies Effect));
        if (aliasName) E.push({ kind: "assign", target: aliasName, source: res.refs[0] });
      } else {
        const entered = this.entersType(res.val, value, aliasName);
        if (entered) {
          const facts = this.r.facts(entered.type) ?? this.r.facts(anySessionType);
          if (facts) {
            const id = this.newSite(`with:${item.id}`, "with", facts, value, st, false, aliasName, entered.type, "with");
            this.sites[id].guessed = entered.guessed;
            managedSite = id;
            E.push({ kind: "acquire", site: id, bind: aliasName });
            if (aliasName) {
              this.addStatic(aliasName, id);
              this.vals.set(aliasName, { k: "type", type: entered.type });
            }
            managed.push({ temp: id });
          }
        } else if (aliasName) {
          E.push({ kind: "assign", target: aliasName, source: null });
          this.vals.set(aliasName, res.val);
        }
      }
      if (alias && !aliasName) for (const t of this.targets(alias)) E.push({ kind: "assign", target: t, source: null });
      // Calling a registry makes a Session object in memory (it connects on first use): no exception path.
      const args = value.type === "call" ? value.childForFieldName("arguments") : null;
      this.add(E, item, !entersOwnSession && (registry.length === 0 || (args?.namedChildren.some(hasCall) ?? false)));
      if (managedSite !== null) this.openWith.push(managedSite);
      this.b.try({
        body: () => go(i + 1),
        handlers: [],
        finally: () => {
          if (managed.length > 0) this.b.add(managed.map((ref) => ({ kind: "release", ref, span: spanOf(item), how: "with" }) satisfies Effect), null);
        },
      });
      if (managedSite !== null) this.openWith.pop();
    };
    go(0);
  }

  /**
   * `with registry() as s:` on a registry this function owns (a scoped_session built here):
   * the with closes the session the registry hands out, which is what the registry's own
   * `close()` does (the model lists `close` among its releases), so the registry is released.
   */
  private registryClosedByWith(value: SyntaxNode): Ref[] {
    if (value.type !== "call") return [];
    const fn = value.childForFieldName("function");
    const path = fn ? pathOf(fn) : null;
    if (!path || !this.tracked({ var: path })) return [];
    const sites = this.sitesOfRefs([{ var: path }]);
    const closes = sites.every((id) => {
      const site = this.sites[id];
      const model = this.r.typeModel(site.type);
      return site.param === null && model?.call?.fresh === false && model.resource?.releaseMethods.includes("close") === true;
    });
    return sites.length > 0 && closes ? [{ var: path }] : [];
  }

  /** What `with value as alias` binds when value is a context manager that yields a managed resource. */
  private entersType(val: Val, value: SyntaxNode, alias: string | null): { type: string; guessed: boolean } | null {
    if (val.k === "type") {
      const model = this.r.typeModel(val.type);
      if (model?.enters) return { type: model.enters, guessed: false };
      if (val.type.startsWith("cm:")) return { type: val.type.slice(3), guessed: false };
    }
    if (value.type === "call" && alias && sessionish.test(alias) && (val.k === "unknown" || val.k === "fn" || val.k === "export")) {
      return { type: anySessionType, guessed: true };
    }
    return null;
  }

  private yieldStatement(expr: SyntaxNode, st: SyntaxNode): void {
    const E: Effect[] = [];
    const value = expr.namedChildren[0] ?? null;
    const res = value ? this.expr(value, E) : none;
    const isFrom = expr.children.some((c) => c.type === "from");
    if (!isFrom) {
      const sites = this.sitesOfRefs(res.refs);
      const refs = [...res.refs];
      if (sites.length === 0 && value && !this.options.pytestFixture && this.mode === "analyze") {
        const adopted = this.adoptYielded(value, expr);
        if (adopted !== null) {
          sites.push(adopted);
          refs.push({ var: this.sites[adopted].bind as string });
        }
      }
      for (const s of sites) this.sites[s].yielded = true;
      for (const ref of refs) E.push({ kind: "use", ref, span: spanOf(expr) });
      this.yields.set(expr.id, { sites, val: res.val, node: expr });
    }
    // pytest resumes a fixture once to run its teardown, also when the test failed; it never throws into it.
    if (this.options.pytestFixture) this.add(E, st, false);
    else this.b.yieldPoint(E, spanOf(st));
  }

  /**
   * `yield self._session` or `yield sess` (a session this generator did not open itself)
   * and, later in the generator, `self._session.remove()` or `Holder.close()` on the object
   * the session came from: the generator took the cleanup on, so the cleanup has to run on
   * every way out of the `yield`, the consumer's exception and cancellation included. The
   * session is tracked from the `yield` on as if acquired there (with no fix: the generator
   * does not create it, and where the cleanup belongs is the code's own choice).
   */
  private adoptYielded(value: SyntaxNode, expr: SyntaxNode): number | null {
    const path = pathOf(value);
    if (!path || path === "self" || path === "cls") return null;
    const last = lastSegment(path);
    if (/factory|maker/i.test(last)) return null;
    const definition = value.type === "identifier" ? this.lastAssignedBefore(value.text, expr) : null;
    if (!(sessionish.test(last) || (definition !== null && /session/i.test(definition.text)))) return null;
    const known = this.vals.get(path);
    if (known?.k === "type" && this.r.facts(known.type)?.rule !== undefined && this.r.facts(known.type)?.rule !== "session-not-closed") return null;
    const body = this.fn.childForFieldName("body");
    if (!body) return null;
    const after = body.text.slice(expr.endIndex - body.startIndex);
    const releasedOn = (p: string) => new RegExp(`(?:^|[^\\w.])${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(?:a?close|remove|release|dispose)\\s*\\(`).test(after);
    const root = definition ? rootIdentifier(definition) : null;
    const viaRoot = root !== null && root !== path && root !== "self" && root !== "cls" && !this.paramIndex.has(root) && releasedOn(root);
    if (!releasedOn(path) && !viaRoot) return null;
    const base = this.r.facts(anySessionType);
    if (!base) return null;
    const facts: ResourceFacts = { ...base, releaseMethods: [...new Set([...base.releaseMethods, ...genericRelease])] };
    const id = this.newSite(`adopt:${expr.id}`, "call", facts, value, this.statement, false, path, anySessionType, "model");
    this.sites[id].adopted = true;
    this.addStatic(path, id);
    const effects: Effect[] = [{ kind: "acquire", site: id, bind: path }];
    if (viaRoot && root) {
      // Releasing the object it came from (`GlobalDB.close()`) releases the session.
      this.addStatic(root, id);
      effects.push({ kind: "assign", target: root, source: { var: path } });
    }
    this.b.add(effects, spanOf(expr));
    return id;
  }

  /** The right-hand side of the last `name = ...` in this function before `node`. */
  private lastAssignedBefore(name: string, node: SyntaxNode): SyntaxNode | null {
    let found: SyntaxNode | null = null;
    for (const a of descendantsOf(this.fn, "assignment")) {
      if (a.startIndex >= node.startIndex) break;
      const left = a.childForFieldName("left");
      if (left?.type !== "identifier" || left.text !== name) continue;
      let right = a.childForFieldName("right");
      if (right?.type === "await") right = right.namedChildren[0] ?? null;
      found = right;
    }
    return found;
  }

  private returnValue(value: SyntaxNode | null, st: SyntaxNode): void {
    const E: Effect[] = [];
    const res = value ? this.expr(value, E, { escaping: true }) : none;
    const sites = this.sitesOfRefs(res.refs);
    for (const ref of res.refs) E.push({ kind: "transfer", ref, reason: "returned", span: spanOf(st) });
    const key = value ? value.id : st.id;
    this.returns.set(key, { sites, val: res.val, node: st });
    this.b.return(E, spanOf(st));
  }

  private assignment(node: SyntaxNode, st: SyntaxNode): void {
    const left = node.childForFieldName("left");
    let right = node.childForFieldName("right");
    const annotation = node.childForFieldName("type");
    if (!left) return;
    if (!right) return;
    // `a = b = f()`: bind the innermost value to every name.
    const lefts: SyntaxNode[] = [left];
    while (right?.type === "assignment") {
      const l = right.childForFieldName("left");
      if (l) lefts.push(l);
      right = right.childForFieldName("right");
    }
    if (!right) return;
    if (right.type === "conditional_expression") {
      const [a, cond, b] = right.namedChildren;
      const E: Effect[] = [];
      this.expr(cond, E);
      this.b.branch(
        { effects: E, span: spanOf(cond), mayThrow: hasCall(cond) },
        () => this.assignFrom(lefts, a, st, annotation),
        () => this.assignFrom(lefts, b, st, annotation),
      );
      return;
    }
    this.assignFrom(lefts, right, st, annotation);
  }

  private assignFrom(lefts: SyntaxNode[], right: SyntaxNode, st: SyntaxNode, annotation: SyntaxNode | null): void {
    const E: Effect[] = [];
    const storing = lefts.some((l) => l.type !== "identifier" || this.globals.has(l.text));
    const res = this.expr(right, E, { escaping: storing });
    let val = res.val;
    if (val.k === "unknown" && annotation) {
      const type = this.r.annotationType(annotation);
      if (type) val = { k: "type", type };
    }
    for (const left of lefts) this.bindTarget(left, res, val, E, st);
    this.add(E, st, this.mayRaise(right));
  }

  /** Names bound by the `except ... as name` clauses being lowered, innermost last. */
  private readonly exceptAliases: string[] = [];

  /** Calls the models say only build an object in memory (`conn.transaction()`): they add no exception path. */
  private readonly pureCalls = new Set<number>();

  /** Can evaluating this (already lowered) expression raise? Any call can, except a pure one on plain operands. */
  private mayRaise(node: SyntaxNode): boolean {
    if (!hasCall(node) || isPlainLiteral(node)) return false;
    let inner = node;
    while (inner.type === "await" || inner.type === "parenthesized_expression") {
      if (inner.type === "await") return true;
      inner = inner.namedChildren[0] ?? inner;
    }
    if (inner.type !== "call") return true;
    const fn = inner.childForFieldName("function");
    if (!this.pureCalls.has(inner.id) && !isStringCaseCall(inner)) return true;
    const object = fn?.type === "attribute" ? fn.childForFieldName("object") : null;
    if (object && hasCall(object)) return true;
    return (inner.childForFieldName("arguments")?.namedChildren ?? []).some((arg) => hasCall(arg));
  }

  private bindTarget(left: SyntaxNode, res: Res, val: Val, E: Effect[], st: SyntaxNode): void {
    if (left.type === "identifier") {
      const name = left.text;
      this.closures.delete(name);
      if (this.globals.has(name)) {
        // A module global outlives the call: stored, not leaked.
        for (const ref of res.refs) E.push({ kind: "transfer", ref, reason: "stored-container", span: spanOf(st) });
        this.vals.set(name, val);
        return;
      }
      if (res.temp !== null && E.some((e) => e.kind === "acquire" && e.site === res.temp && e.bind === null)) this.bindTemp(E, res.temp, name, val);
      else {
        // `conn = conn.execution_options(...)`, `session = wrap(session)`: most likely the same object (or one
        // that owns it): keep pointing at what the name held rather than calling the old value lost.
        const selfDerived = res.refs.length === 0 && this.tracked({ var: name }) && rightMentions(this.statement, name);
        E.push({ kind: "assign", target: name, source: res.refs[0] ?? (selfDerived ? { var: name } : null) });
        for (const s of this.sitesOfRefs(res.refs.slice(0, 1))) this.addStatic(name, s);
      }
      if (res.val.k === "unknown" && this.closures.has(res.val.name)) this.closures.set(name, this.closures.get(res.val.name) as Closure);
      this.vals.set(name, val);
      return;
    }
    if (left.type === "attribute") {
      const path = pathOf(left);
      const object = left.childForFieldName("object");
      if (object?.type === "identifier" && this.exceptAliases.includes(object.text)) {
        // `except Exception as e: e.session = session; raise`: a note on the exception for whoever
        // catches it, not a new owner (nothing closes what an exception carries).
        for (const ref of res.refs) E.push({ kind: "use", ref, span: spanOf(st) });
        return;
      }
      const isSelf = object?.type === "identifier" && (object.text === "self" || object.text === "cls");
      const reason: TransferReason = isSelf ? "stored-field" : "stored-container";
      for (const ref of res.refs) E.push({ kind: "transfer", ref, reason, span: spanOf(st) });
      if (isSelf && path) for (const site of this.sitesOfRefs(res.refs)) this.sites[site].field ??= path;
      if (path) {
        E.push({ kind: "assign", target: path, source: res.refs[0] ?? null });
        for (const s of this.sitesOfRefs(res.refs.slice(0, 1))) this.addStatic(path, s);
        this.vals.set(path, val);
      }
      return;
    }
    if (left.type === "subscript") {
      const E2: Effect[] = [];
      const container = left.childForFieldName("value");
      this.expr(container, E2);
      // `kwargs["db_session"] = s` then `func(**kwargs)`: a dict that never leaves the call only lends the value.
      const lent = container?.type === "identifier" && localOnlyDict(this.fn, container.text);
      for (const ref of res.refs) E.push(lent ? { kind: "use", ref, span: spanOf(st) } : { kind: "transfer", ref, reason: "stored-container", span: spanOf(st) });
      return;
    }
    // Tuple targets: `a, b = x, y` pairs up; anything else rebinds to untracked values.
    const targets = left.namedChildren.filter((c) => c.type !== "list_splat_pattern");
    // `conn, cur = get_conn_and_cursor()`: the helper's summary says which element is the fresh resource.
    const element = res.element !== undefined && res.temp !== null ? targets[res.element] : undefined;
    if (element?.type === "identifier" && res.temp !== null && E.some((e) => e.kind === "acquire" && e.site === res.temp && e.bind === null)) {
      for (const t of targets) if (t !== element && pathOf(t)) E.push({ kind: "assign", target: pathOf(t) as string, source: null });
      this.closures.delete(element.text);
      this.bindTemp(E, res.temp, element.text, val);
      return;
    }
    for (const t of targets) {
      const path = pathOf(t);
      if (path) {
        E.push({ kind: "assign", target: path, source: null });
        this.vals.set(path, unknown(path));
      } else if (t.type === "subscript" || t.type === "attribute") {
        for (const ref of res.refs) E.push({ kind: "transfer", ref, reason: "stored-container", span: spanOf(st) });
      }
    }
  }

  private bindTemp(E: Effect[], temp: number, name: string, val: Val): void {
    for (const e of E) if (e.kind === "acquire" && e.site === temp) e.bind = name;
    // Uses of the temporary in the same statement are uses of the name now.
    for (let i = 0; i < E.length; i++) {
      const e = E[i];
      if ((e.kind === "use" || e.kind === "release" || e.kind === "transfer") && "temp" in e.ref && e.ref.temp === temp) E[i] = { ...e, ref: { var: name } };
    }
    this.sites[temp].bind = name;
    this.addStatic(name, temp);
    this.vals.set(name, val);
  }

  private defineClosure(def: SyntaxNode, st: SyntaxNode): void {
    const name = def.childForFieldName("name")?.text;
    const body = def.childForFieldName("body");
    if (!name || !body) return;
    this.closures.set(name, this.closureOf(def, body));
    void st;
  }

  private closureOf(node: SyntaxNode, body: SyntaxNode): Closure {
    const own = new Set(parameterNames(node).names);
    const captures = new Set<string>();
    for (const id of descendantsOf(body, "identifier")) {
      if (own.has(id.text)) continue;
      const parent = id.parent;
      if (parent?.type === "attribute" && parent.childForFieldName("attribute")?.id === id.id) continue;
      if (this.staticSites.has(id.text)) captures.add(id.text);
    }
    return { node, body, captures: [...captures], withSites: [...this.openWith] };
  }

  /** Effects of running a closure's body on the values it captures: releases and uses. */
  private closureEffects(c: Closure, span: Span): Effect[] {
    const E: Effect[] = [];
    for (const name of c.captures) {
      const sites = this.staticSites.get(name);
      if (!sites) continue;
      const releases = new Set<string>();
      for (const s of sites) for (const m of this.sites[s].facts.releaseMethods) releases.add(m);
      const releasing = descendantsOf(c.body, "call").some((call) => {
        const f = call.childForFieldName("function");
        return f?.type === "attribute" && f.childForFieldName("object")?.text === name && releases.has(f.childForFieldName("attribute")?.text ?? "");
      });
      E.push(releasing ? { kind: "release", ref: { var: name }, span, how: "callback" } : { kind: "use", ref: { var: name }, span });
    }
    return E;
  }

  /** A closure outlives the function: what it captures is kept, and its uses happen after any with block it sits in. */
  private escapeClosure(c: Closure, E: Effect[], span: Span): void {
    for (const name of c.captures) {
      E.push({ kind: "transfer", ref: { var: name }, reason: "captured", span });
      for (const site of this.staticSites.get(name) ?? []) {
        if (!c.withSites.includes(site) || !this.sites[site].managed) continue;
        const use = descendantsOf(c.body, "identifier").find((id) => id.text === name);
        if (use) this.deferred.set(`${site}:${use.id}`, { site, use });
      }
    }
  }

  // ---------- expressions ----------

  private expr(node: SyntaxNode | null | undefined, E: Effect[], ctx: { awaited?: boolean; withItem?: boolean; escaping?: boolean; iterated?: boolean } = {}): Res {
    if (!node) return none;
    switch (node.type) {
      case "identifier": {
        const name = node.text;
        const val = this.vals.get(name) ?? (this.closures.has(name) ? unknown(name) : this.r.name(name));
        const ref: Ref = { var: name };
        if (ctx.escaping && this.closures.has(name)) this.escapeClosure(this.closures.get(name) as Closure, E, spanOf(node));
        return { val, refs: this.tracked(ref) ? [ref] : [], temp: null };
      }
      case "attribute": {
        const object = node.childForFieldName("object");
        const attribute = node.childForFieldName("attribute")?.text ?? "";
        const path = pathOf(node);
        if (object?.type === "identifier" && (object.text === "self" || object.text === "cls")) {
          const val = (path && this.vals.get(path)) || this.fieldVal(attribute);
          const ref: Ref | null = path ? { var: path } : null;
          return { val, refs: ref && this.tracked(ref) ? [ref] : [], temp: null };
        }
        const base = this.expr(object, E);
        if (base.val.k === "module") return { val: this.r.member(base.val, attribute), refs: [], temp: null };
        for (const ref of base.refs) E.push({ kind: "use", ref, span: spanOf(node) });
        const ref: Ref | null = path ? { var: path } : null;
        const known = path ? this.vals.get(path) : undefined;
        return { val: known ?? this.fieldVal(attribute), refs: ref && this.tracked(ref) ? [ref] : [], temp: null };
      }
      case "call":
        return this.call(node, E, ctx);
      case "await": {
        const inner = node.namedChildren[0];
        return this.expr(inner, E, { ...ctx, awaited: true });
      }
      case "parenthesized_expression":
        return this.expr(node.namedChildren[0], E, ctx);
      case "subscript": {
        const value = node.childForFieldName("value");
        const base = this.expr(value, E);
        for (const ref of base.refs) E.push({ kind: "use", ref, span: spanOf(node) });
        for (const s of node.childrenForFieldName("subscript")) this.expr(s, E);
        const key = node.childrenForFieldName("subscript")[0];
        if (key?.type === "string") {
          const text = key.text.replace(/^[rbuf]*["']|["']$/gi, "");
          const type = this.r.index.keys[text];
          if (type) return { val: { k: "type", type }, refs: [], temp: null };
          return { val: unknown(text), refs: [], temp: null };
        }
        return none;
      }
      case "lambda": {
        const body = node.childForFieldName("body");
        if (!body) return none;
        const closure = this.closureOf(node, body);
        const key = `lambda:${node.id}`;
        this.closures.set(key, closure);
        if (ctx.escaping) this.escapeClosure(closure, E, spanOf(node));
        return { val: unknown(key), refs: [], temp: null };
      }
      case "tuple":
      case "list":
      case "set":
      case "expression_list": {
        const refs: Ref[] = [];
        for (const child of node.namedChildren) refs.push(...this.expr(child, E, ctx).refs);
        return { val: unknown(), refs, temp: null };
      }
      case "dictionary": {
        const refs: Ref[] = [];
        for (const pair of node.namedChildren) for (const child of pair.namedChildren) refs.push(...this.expr(child, E, ctx).refs);
        return { val: unknown(), refs, temp: null };
      }
      case "conditional_expression": {
        const [a, cond, b] = node.namedChildren;
        this.expr(cond, E);
        const ra = this.expr(a, E, ctx);
        const rb = this.expr(b, E, ctx);
        return { val: ra.val.k !== "unknown" ? ra.val : rb.val, refs: [...ra.refs, ...rb.refs], temp: null };
      }
      case "boolean_operator": {
        const refs: Ref[] = [];
        let val: Val = unknown();
        for (const child of node.namedChildren) {
          const r = this.expr(child, E, ctx);
          refs.push(...r.refs);
          if (val.k === "unknown") val = r.val;
        }
        return { val, refs, temp: null };
      }
      case "named_expression": {
        const name = node.childForFieldName("name");
        const res = this.expr(node.childForFieldName("value"), E, ctx);
        if (name) this.bindTarget(name, res, res.val, E, this.statement);
        return res;
      }
      case "keyword_argument":
        return this.expr(node.childForFieldName("value"), E, ctx);
      case "list_splat":
      case "dictionary_splat":
        return this.expr(node.namedChildren[0], E, ctx);
      case "string":
      case "integer":
      case "float":
      case "true":
      case "false":
      case "none":
      case "comment":
        return none;
      default: {
        // Comprehensions, operators, f-strings: uses of whatever they mention.
        for (const child of node.namedChildren) {
          const r = this.expr(child, E);
          for (const ref of r.refs) E.push({ kind: "use", ref, span: spanOf(child) });
        }
        return none;
      }
    }
  }

  private fieldVal(attribute: string): Val {
    const type = this.options.classFields[attribute] ?? this.r.index.attributes[attribute] ?? this.injectedFactories()[attribute];
    return type ? { k: "type", type } : unknown(attribute);
  }

  private injected: Record<string, string> | null = null;

  /**
   * Factories a class is given in its constructor: `def __init__(self, Session): self._Session = Session`,
   * typed by the parameter's annotation (`session_factory: sessionmaker`) or, unannotated, by the
   * attribute of that very name the project binds to a factory (`self.Session = sessionmaker(...)`
   * in the code that builds the object). Only factories count: calling one makes a fresh resource.
   */
  private injectedFactories(): Record<string, string> {
    if (this.injected) return this.injected;
    this.injected = {};
    const cls = this.fn.parent?.type === "block" ? this.fn.parent.parent : this.fn.parent?.parent?.type === "block" ? this.fn.parent.parent.parent : null;
    if (cls?.type !== "class_definition") return this.injected;
    for (const st of cls.childForFieldName("body")?.namedChildren ?? []) {
      const def = st.type === "decorated_definition" ? st.childForFieldName("definition") : st;
      if (def?.type !== "function_definition" || def.childForFieldName("name")?.text !== "__init__") continue;
      const { names, annotations } = parameterNames(def);
      for (const a of descendantsOf(def.childForFieldName("body") ?? def, "assignment")) {
        const left = a.childForFieldName("left");
        const right = a.childForFieldName("right");
        if (left?.type !== "attribute" || left.childForFieldName("object")?.text !== "self" || right?.type !== "identifier") continue;
        const index = names.indexOf(right.text);
        if (index < 0) continue;
        const annotation = annotations[index];
        const head = annotation ? /^["']?([\w.]+)/.exec(annotation.text)?.[1] : undefined;
        const type = head ? this.r.annotationType({ text: head } as SyntaxNode) : (this.r.index.attributes[right.text] ?? null);
        const call = type ? this.r.typeModel(type)?.call : undefined;
        if (!type || !call?.returns || call.fresh === false || !this.r.facts(call.returns)) continue;
        const attribute = left.childForFieldName("attribute")?.text;
        if (attribute) this.injected[attribute] = type;
      }
    }
    return this.injected;
  }

  private call(node: SyntaxNode, E: Effect[], ctx: { awaited?: boolean; withItem?: boolean; escaping?: boolean; iterated?: boolean }): Res {
    const fn = node.childForFieldName("function");
    const argsNode = node.childForFieldName("arguments");
    if (!fn) return none;
    const awaited = ctx.awaited ?? false;
    const calleeText = fn.text;
    let facts: CallFacts | null = null;
    let receiver: Res | null = null;
    let receiverNode: SyntaxNode | null = null;
    let method: string | null = null;
    let calleeVal: Val = unknown(calleeText);

    if (fn.type === "attribute") {
      receiverNode = fn.childForFieldName("object");
      method = fn.childForFieldName("attribute")?.text ?? "";
      receiver = this.expr(receiverNode, E);
      if (receiver.val.k === "module") {
        calleeVal = this.r.member(receiver.val, method);
        facts = this.r.callFacts(calleeVal, calleeText);
        receiver = null;
        method = null;
      }
    } else {
      const callee = this.expr(fn, E);
      calleeVal = callee.val;
      // A parameter called directly: invoked now.
      if (fn.type === "identifier" && this.paramIndex.has(fn.text)) this.calledParams.add(this.paramIndex.get(fn.text) as number);
      const closure = fn.type === "identifier" ? this.closures.get(fn.text) : undefined;
      if (closure) {
        // Calling a local function runs its body now; `create_task(inner())` is handled by the caller.
        if (!ctx.escaping) E.push(...this.closureEffects(closure, spanOf(node)));
        this.args(argsNode, null, E, calleeText, node);
        if (ctx.escaping) this.escapeClosure(closure, E, spanOf(node));
        return { val: unknown(`closure-call:${fn.text}`), refs: [], temp: null };
      }
      facts = this.r.callFacts(calleeVal, calleeText);
      // `session = Session()` on a registry this function owns: the session is the registry's own resource.
      const own = callee.refs.filter((ref) => this.tracked(ref));
      if (facts?.returnsItself && own.length > 0 && facts.returns) {
        if (facts.pure) this.pureCalls.add(node.id);
        this.args(argsNode, null, E, calleeText, node);
        for (const ref of own) E.push({ kind: "use", ref, span: spanOf(node) });
        return { val: { k: "type", type: facts.returns }, refs: own, temp: null };
      }
    }

    // ---- method calls on values ----
    if (receiver && method !== null && receiverNode) {
      return this.methodCall(node, receiver, receiverNode, method, argsNode, E, awaited, ctx);
    }

    const delegated = awaited ? this.invokedFactory(argsNode, facts, calleeText) : null;
    const passedOn = this.returnedCall(node, argsNode, facts, E);
    this.args(argsNode, facts, E, calleeText, node);
    if (awaited) this.forwardedReleases(argsNode, facts, calleeText, E, node);
    // `await run_in_threadpool(create_session)` is `create_session()` run on a worker thread: its result is the factory's.
    if (delegated) return this.result(node, delegated.facts, E, true, delegated.val, null, delegated.text);
    if (passedOn) return passedOn;
    // `def retry(f): return f()`: a summary records that the wrapper returns what its parameter returns.
    if (fn.type === "identifier" && this.paramIndex.has(fn.text) && !facts) return { val: unknown(`${paramCallPrefix}${this.paramIndex.get(fn.text)}`), refs: [], temp: null };
    return this.result(node, facts, E, awaited, calleeVal, null, calleeText);
  }

  /**
   * A wrapper that returns what calling its argument returns (`throttle(lambda: psycopg2.connect(dsn))`,
   * `retry(open_session)`): its result is that call's. A parameter passed on to such a wrapper makes
   * this function one too, for its summary.
   */
  private returnedCall(node: SyntaxNode, argsNode: SyntaxNode | null, facts: CallFacts | null, E: Effect[]): Res | null {
    const index = facts?.summary?.returnsCallOf;
    if (index === undefined || argsNode?.type !== "argument_list") return null;
    const positional = positionalArgs(argsNode);
    const name = facts?.summary?.params[index];
    const keyword = argsNode.namedChildren.find((c) => c.type === "keyword_argument" && c.childForFieldName("name")?.text === name);
    const target = positional[index] ?? keyword?.childForFieldName("value") ?? null;
    if (!target) return null;
    if (target.type === "identifier" && this.paramIndex.has(target.text)) return { val: unknown(`${paramCallPrefix}${this.paramIndex.get(target.text)}`), refs: [], temp: null };
    if (target.type === "lambda") {
      const body = target.childForFieldName("body");
      // Only a lambda without parameters whose body is one call: that call runs now, in this scope.
      if (target.childForFieldName("parameters") || body?.type !== "call") return null;
      return this.expr(body, E);
    }
    if (target.type !== "identifier" && target.type !== "attribute") return null;
    if (this.closures.has(target.text)) return null;
    const val = this.expr(target, []).val;
    const targetFacts = this.r.callFacts(val, target.text);
    if (!targetFacts?.returns || targetFacts.awaited) return null;
    return this.result(node, targetFacts, E, true, val, null, target.text);
  }

  /**
   * `await run_in_threadpool(close_session, db)`: the helper runs `close_session(db)` now, so what that
   * function does with its arguments (its summary: releases, keeps) happens to the arguments passed after it.
   */
  private forwardedReleases(argsNode: SyntaxNode | null, facts: CallFacts | null, calleeText: string, E: Effect[], node: SyntaxNode): void {
    if (argsNode?.type !== "argument_list" || (facts && facts.origin !== "model")) return;
    const nowIndex = runsNow(facts, calleeText);
    if (nowIndex === undefined) return;
    const positional = positionalArgs(argsNode);
    const target = positional[nowIndex];
    if (!target || (target.type !== "identifier" && target.type !== "attribute") || this.closures.has(target.text)) return;
    const targetFacts = this.r.callFacts(this.expr(target, []).val, target.text);
    if (!targetFacts) return;
    const span = spanOf(node);
    for (const [i, arg] of positional.slice(nowIndex + 1).entries()) {
      const path = pathOf(arg);
      if (!path || !this.tracked({ var: path })) continue;
      if (targetFacts.releasesArgs?.includes(i)) E.push({ kind: "release", ref: { var: path }, span, how: target.text });
      else if (targetFacts.takesArgs?.includes(i)) E.push({ kind: "transfer", ref: { var: path }, reason: "passed-owner", span });
    }
  }

  /** The synchronous factory a call runs now and hands back the result of (`to_thread(f)`, `run_in_threadpool(f, ...)`). */
  private invokedFactory(argsNode: SyntaxNode | null, facts: CallFacts | null, calleeText: string): { facts: CallFacts; val: Val; text: string } | null {
    if (argsNode?.type !== "argument_list") return null;
    // Only the libraries' run-on-a-thread helpers hand back the callable's own result; a project function that
    // calls its argument (`_run(sessionmaker)`) returns whatever it likes (its summary says what).
    if (facts && facts.origin !== "model") return null;
    const nowIndex = runsNow(facts, calleeText);
    if (nowIndex === undefined) return null;
    const positional = positionalArgs(argsNode);
    const target = positional[nowIndex];
    if (!target || (target.type !== "identifier" && target.type !== "attribute") || this.closures.has(target.text)) return null;
    const val = this.expr(target, []).val;
    const targetFacts = this.r.callFacts(val, target.text);
    if (!targetFacts?.returns || targetFacts.awaited) return null;
    return { facts: targetFacts, val, text: target.text };
  }

  private methodCall(
    node: SyntaxNode,
    receiver: Res,
    receiverNode: SyntaxNode,
    method: string,
    argsNode: SyntaxNode | null,
    E: Effect[],
    awaited: boolean,
    ctx: { withItem?: boolean; escaping?: boolean },
  ): Res {
    const span = spanOf(node);
    let recvType = receiver.val.k === "type" ? receiver.val.type : null;
    if (!recvType && receiver.val.k !== "fn" && receiver.val.k !== "class") recvType = conventionalReceiverType(receiverNode.text, method, awaited, this.options.isAsync);
    const typeModel = recvType ? this.r.typeModel(recvType) : undefined;
    const trackedRefs = receiver.refs.filter((r) => this.tracked(r));

    // Manual enter: the context manager now owes an exit.
    if ((method === "__aenter__" || method === "__enter__") && this.mode === "summary") {
      // `async def enter(cm): return await cm.__aenter__()`: the caller owes the exit.
      const param = receiverNode.type === "identifier" ? this.paramIndex.get(receiverNode.text) : undefined;
      if (param !== undefined) this.enteredParams.add(param);
    }
    if ((method === "__aenter__" || method === "__enter__") && this.mode === "analyze") {
      const enteredType = this.enterSite(node, receiverNode, receiver.val, method === "__aenter__", awaited, E);
      this.args(argsNode, null, E, method, node);
      return { val: { k: "type", type: enteredType }, refs: [], temp: null };
    }
    if (method === "__aexit__" || method === "__exit__") {
      const param = receiverNode.type === "identifier" ? this.paramIndex.get(receiverNode.text) : undefined;
      if (param !== undefined) this.exitedParams.add(param);
      const path = pathOf(receiverNode);
      if (path) E.push({ kind: "release", ref: { var: `${path}#entered` }, span, how: method });
      for (const ref of trackedRefs) E.push({ kind: "release", ref, span, how: method });
      this.args(argsNode, null, E, method, node);
      return none;
    }

    // Release methods of the values the receiver may hold.
    const releaseNames = new Set<string>();
    for (const s of this.sitesOfRefs(trackedRefs)) {
      const f = this.sites[s].facts;
      if (f.noun === "parameter") for (const m of genericRelease) releaseNames.add(m);
      for (const m of f.releaseMethods) releaseNames.add(m);
    }
    const typeFacts = recvType ? this.r.facts(recvType) : null;
    if (typeFacts) for (const m of typeFacts.releaseMethods) releaseNames.add(m);
    if (trackedRefs.length > 0 && releaseNames.has(method)) {
      this.args(argsNode, null, E, method, node);
      for (const ref of trackedRefs) E.push({ kind: "release", ref, span, how: method });
      return none;
    }

    const model = typeModel?.methods?.[method];
    let facts: CallFacts | null = model ? { ...model, origin: "model" } : null;
    if (!facts) {
      // Calling a value kept on an object: `request.app.state.db_factory()`, `self.session_factory()`.
      const path = pathOf(receiverNode);
      const held = (path && this.vals.get(`${path}.${method}`)) || this.fieldVal(method);
      if (held.k === "type") facts = this.r.callFacts(held, method);
    }
    if (!facts && (exitStackMethods.has(method) || (containerMethods.has(method) && this.sitesOfRefs(trackedRefs).every((id) => this.sites[id].param !== null)))) {
      // ExitStack.enter_context(cm), push_async_callback(conn.close), sessions.append(s): someone else owns it now.
      const count = argsNode?.namedChildren.length ?? 0;
      facts = { takesArgs: Array.from({ length: count }, (_, i) => i), origin: "model" };
      this.args(argsNode, facts, E, method, node, exitStackMethods.has(method) ? "exit-stack" : "stored-container");
      return none;
    }
    if (model?.releasesReceiver) for (const ref of trackedRefs) E.push({ kind: "release", ref, span, how: method });
    else for (const ref of trackedRefs) E.push({ kind: "use", ref, span });
    if (!facts) {
      // A project method reached through self: its summary.
      const receiverPath = pathOf(receiverNode);
      if (receiverPath === "self" || receiverPath === "cls") {
        const cls = this.enclosingClassQualified();
        const summary = cls ? this.r.summaryOf(`${cls}.${method}`) : undefined;
        if (summary) facts = this.r.callFacts({ k: "fn", name: `${cls}.${method}` }, method);
      } else if (recvType?.startsWith(instancePrefix)) {
        // A method of a project class's instance (`target = PgTarget(dsn)`, `self.output()` returning one).
        const qualified = `${recvType.slice(instancePrefix.length)}.${method}`;
        if (this.r.summaryOf(qualified)) facts = this.r.callFacts({ k: "fn", name: qualified }, method);
      }
    }
    if (!facts && (receiver.val.k === "fn" || receiver.val.k === "class" || receiver.val.k === "unknown")) {
      const byName = receiver.val.k === "unknown" ? this.r.callFacts(unknown(method), method) : null;
      if (byName?.returns) facts = byName;
    }
    const passedOn = this.returnedCall(node, argsNode, facts, E);
    this.args(argsNode, facts, E, method, node);
    if (passedOn) return passedOn;
    const res = this.result(node, facts, E, awaited, recvType ? { k: "type", type: recvType } : unknown(method), receiverNode.text, method);
    if (res.temp !== null && facts?.childOfReceiver && trackedRefs[0]) E.push({ kind: "parent", child: { temp: res.temp }, parent: trackedRefs[0] });
    void ctx;
    return res;
  }

  /** Parameters entered (`cm.__aenter__()`) and exited in this function (summary mode). */
  readonly enteredParams = new Set<number>();
  readonly exitedParams = new Set<number>();

  /**
   * An `__aenter__`/`__enter__` of the context manager `cmNode` (by hand, or by a helper that
   * enters its argument): an acquisition of the "entered" state, released by the exit.
   */
  private enterSite(node: SyntaxNode, cmNode: SyntaxNode, cmVal: Val, isAsync: boolean, awaited: boolean, E: Effect[]): string {
    const path = pathOf(cmNode);
    const known = this.enteredTypeOf(cmVal);
    const enteredType = known ?? anySessionType;
    const facts: ResourceFacts = {
      rule: "manual-aenter",
      noun: "context manager",
      releaseMethods: [isAsync ? "__aexit__" : "__exit__"],
      releaseAwait: isAsync ? "always" : "never",
      protocols: [],
      finallyRelease: null,
    };
    const bind = path ? `${path}#entered` : null;
    const id = this.newSite(`enter:${node.id}:${cmNode.id}`, "enter", facts, node, this.statement, awaited, bind, enteredType, "model");
    this.sites[id].entered = cmNode.text;
    this.sites[id].guessed = known === null;
    E.push({ kind: "acquire", site: id, bind });
    if (bind) this.addStatic(bind, id);
    return enteredType;
  }

  private enclosingClassQualified(): string | null {
    for (let p = this.fn.parent; p; p = p.parent) {
      if (p.type === "class_definition") {
        const names: string[] = [];
        for (let q: SyntaxNode | null = p; q; q = q.parent) if (q.type === "class_definition") names.unshift(q.childForFieldName("name")?.text ?? "?");
        return `${this.r.module}.${names.join(".")}`;
      }
      if (p.type === "function_definition") return null;
    }
    return null;
  }

  private enteredTypeOf(val: Val): string | null {
    if (val.k !== "type") return null;
    const model = this.r.typeModel(val.type);
    if (model?.enters) return model.enters;
    if (val.type.startsWith("cm:")) return val.type.slice(3);
    if (this.r.facts(val.type)) return val.type;
    return null;
  }

  /** Arguments: released, taken, invoked, or borrowed. */
  private readonly holders = new Map<number, boolean>();

  /**
   * `repo = Repository(session)` where `repo` is a plain local of this function that is only
   * ever asked to do things (`repo.list()`): never returned, yielded, stored, passed on,
   * captured, entered or started as background work. Such an object dies with the call, so
   * what it was given still belongs to the function.
   */
  private isLocalHolder(call: SyntaxNode): boolean {
    const cached = this.holders.get(call.id);
    if (cached !== undefined) return cached;
    const answer = localHolder(this.fn, call);
    this.holders.set(call.id, answer);
    return answer;
  }

  private args(argsNode: SyntaxNode | null, facts: CallFacts | null, E: Effect[], calleeText: string, call: SyntaxNode, takeReason: TransferReason = "passed-owner"): void {
    if (!argsNode || argsNode.type !== "argument_list") {
      if (argsNode) this.expr(argsNode, E);
      return;
    }
    const last = lastSegment(calleeText);
    const isDeferral = deferral.has(last);
    const constructorLike = /^[A-Z]/.test(last) && !facts;
    const nowIndex = runsNow(facts, calleeText);
    const paramNames = facts?.summary?.params ?? [];
    let position = 0;
    for (const arg of argsNode.namedChildren) {
      if (arg.type === "comment") continue;
      let index = position;
      let value: SyntaxNode | null = arg;
      if (arg.type === "keyword_argument") {
        const name = arg.childForFieldName("name")?.text ?? "";
        value = arg.childForFieldName("value");
        index = paramNames.indexOf(name);
        if (last === "Thread" && name === "target") index = 0;
      } else if (arg.type === "list_splat" || arg.type === "dictionary_splat") {
        index = -1;
      } else position++;
      if (!value) continue;
      const span = spanOf(value);
      // `greenlet_spawn(conn.close)`, `run_in_executor(None, conn.close)`: the release runs now.
      if (value.type === "attribute") {
        const object = value.childForFieldName("object");
        const attr = value.childForFieldName("attribute")?.text ?? "";
        const objPath = object ? pathOf(object) : null;
        if (objPath && this.tracked({ var: objPath })) {
          const releases = new Set(this.sitesOfRefs([{ var: objPath }]).flatMap((s) => this.sites[s].facts.releaseMethods));
          if (releases.has(attr)) {
            if (nowIndex !== undefined && nowIndex === index) E.push({ kind: "release", ref: { var: objPath }, span, how: `${last}(${attr})` });
            else E.push({ kind: "transfer", ref: { var: objPath }, reason: "passed-owner", span });
            continue;
          }
        }
      }
      const closureKey = value.type === "identifier" ? value.text : value.type === "lambda" ? `lambda:${value.id}` : null;
      if (value.type === "lambda") this.expr(value, E);
      const closure = closureKey ? this.closures.get(closureKey) : undefined;
      if (closure) {
        if (nowIndex !== undefined && nowIndex === index) E.push(...this.closureEffects(closure, span));
        else if (isDeferral || constructorLike) this.escapeClosure(closure, E, span);
        else {
          const effects = this.closureEffects(closure, span);
          this.pendingMayRun.push(effects);
        }
        continue;
      }
      // `create_task(inner(session))`: the coroutine runs later.
      const res = this.expr(value, E, { escaping: isDeferral });
      if (isDeferral) {
        for (const s of this.sitesOfRefs(res.refs)) if (this.sites[s].managed && this.openWith.includes(s)) this.deferred.set(`${s}:${value.id}`, { site: s, use: value });
      }
      for (const ref of res.refs) {
        if (facts?.releasesArgs?.includes(index)) E.push({ kind: "release", ref, span, how: calleeText });
        // An object built around the value may keep it; it owns it only if the caller does not
        // release it later, and only if the object itself outlives the call.
        else if (facts?.takesArgs?.includes(index) && facts.origin === "class" && takeReason === "passed-owner") {
          // A local holder keeps nothing beyond the call, and building it is no first use of a lazy resource.
          if (!this.isLocalHolder(call)) E.push({ kind: "transfer", ref, reason: "passed-unknown-owner", span });
        } else if (facts?.takesArgs?.includes(index)) E.push({ kind: "transfer", ref, reason: takeReason, span });
        else if (facts?.entersArgs?.includes(index)) E.push({ kind: "use", ref, span });
        else if (constructorLike && this.isLocalHolder(call)) continue;
        else if (constructorLike || (isDeferral && last === "Thread")) E.push({ kind: "transfer", ref, reason: "passed-unknown-owner", span });
        else E.push({ kind: "use", ref, span });
      }
      if (res.temp !== null && facts?.entersArgs?.includes(index)) {
        // A helper entered this fresh context manager and never exits it.
        const site = this.sites[res.temp];
        site.facts = { ...site.facts, rule: "manual-aenter" };
        site.entered = value.text;
      } else if (facts?.entersArgs?.includes(index) && this.mode === "analyze" && (res.val.k === "type" || pathOf(value) !== null)) {
        // `self.session = await enter(self._cm)`: the helper entered the context manager; this
        // function (or its class's close path) now owes the exit, as with a manual `__aenter__()`.
        this.enterSite(call, value, res.val, facts.summary?.async ?? true, true, E);
      }
    }
    void call;
  }

  /** Effects of may-run callbacks found while evaluating a statement (flushed by the caller). */
  private pendingMayRun: Effect[][] = [];

  private result(node: SyntaxNode, facts: CallFacts | null, E: Effect[], awaited: boolean, calleeVal: Val, receiverText: string | null, calleeText: string): Res {
    if (!facts) return { val: unknown(calleeText), refs: [], temp: null };
    if (facts.pure) this.pureCalls.add(node.id);
    if (facts.enters) return { val: { k: "type", type: `cm:${facts.enters}` }, refs: [], temp: null };
    if (facts.generatorOf) {
      const yieldedFacts = this.r.facts(facts.generatorOf);
      if (yieldedFacts?.rule === "session-not-closed" && facts.summary?.async && this.mode === "analyze") {
        const genFacts: ResourceFacts = { rule: "session-not-closed", noun: "session generator", releaseMethods: ["aclose"], releaseAwait: "always", protocols: [], finallyRelease: null };
        const id = this.newSite(`gen:${node.id}`, "call", genFacts, node, this.statement.type === "for_statement" ? node : this.statement, awaited, null, `gen:${facts.generatorOf}`, facts.origin);
        E.push({ kind: "acquire", site: id, bind: null });
        return { val: { k: "type", type: `gen:${facts.generatorOf}` }, refs: [{ temp: id }], temp: id };
      }
      return { val: { k: "type", type: `gen:${facts.generatorOf}` }, refs: [], temp: null };
    }
    if (!facts.returns) {
      // An instance of a project class: its methods' summaries say what calling them does (`PgTarget(...).connect()`).
      if (facts.origin === "class" && calleeVal.k === "class") return { val: { k: "type", type: `${instancePrefix}${calleeVal.name}` }, refs: [], temp: null };
      return { val: unknown(calleeText), refs: [], temp: null };
    }
    const returns = refineReturn(node, facts.returns, this.r);
    const val: Val = { k: "type", type: returns };
    const resource = this.r.facts(returns);
    const perCall = facts.origin === "model" && facts.fresh !== false && !resource ? this.r.typeModel(returns)?.perCallOwned : undefined;
    const perCallFacts = perCall ? this.r.facts(perCall) : null;
    if (perCall && perCallFacts) {
      // `scoped_session(maker)` built inside a function is a registry of this call's own: the
      // session it hands out stays open until the registry is removed (or the registry is
      // stored, returned or captured, like any owned value).
      const id = this.newSite(`call:${node.id}`, "call", perCallFacts, node, this.statement, awaited, null, perCall, facts.origin);
      this.sites[id].receiver = receiverText;
      E.push({ kind: "acquire", site: id, bind: null });
      return { val: { k: "type", type: perCall }, refs: [{ temp: id }], temp: id };
    }
    if (!resource || facts.fresh === false) return { val, refs: [], temp: null };
    // An async factory's result is the resource only once awaited; a coroutine left unawaited holds nothing yet.
    if (facts.awaited && !awaited) return { val, refs: [], temp: null };
    if (isBorrowedSession(node, returns)) return { val, refs: [], temp: null };
    if (this.mode === "analyze" && isTestDouble(node, returns, facts, this.r)) return { val, refs: [], temp: null };
    const id = this.newSite(`call:${node.id}`, "call", resource, node, this.statement, awaited, null, returns, facts.origin);
    this.sites[id].receiver = receiverText;
    if (facts.summary && !facts.summary.alwaysFresh) this.sites[id].maybeNone = true;
    E.push({ kind: "acquire", site: id, bind: null });
    void calleeVal;
    return { val, refs: [{ temp: id }], temp: id, element: facts.freshElement };
  }

  finish(): FlowGraph {
    return this.b.finish();
  }

  takeMayRun(): Effect[][] {
    const out = this.pendingMayRun;
    this.pendingMayRun = [];
    return out;
  }
}

/** Methods that hand an object's work to something that outlives the call. */
const backgroundMethods = /^(start|run_forever|serve_forever|serve|listen|schedule|submit|spawn|register|subscribe|daemon|run_in_background|add_done_callback|setDaemon)$/;

function localHolder(fn: SyntaxNode, call: SyntaxNode): boolean {
  const assignment = call.parent;
  if (assignment?.type !== "assignment" || assignment.childForFieldName("right")?.id !== call.id) return false;
  if (assignment.parent?.type !== "expression_statement") return false;
  const left = assignment.childForFieldName("left");
  if (left?.type !== "identifier") return false;
  const name = left.text;
  const body = fn.childForFieldName("body");
  if (!body) return false;
  let bindings = 0;
  for (const id of body.descendantsOfType("identifier")) {
    if (id.text !== name) continue;
    const parent = id.parent;
    if (!parent) return false;
    // Bound once, by this very assignment.
    if (parent.type === "assignment" && parent.childForFieldName("left")?.id === id.id) {
      bindings++;
      if (parent.id !== assignment.id) return false;
      continue;
    }
    if (parent.type === "keyword_argument" && parent.childForFieldName("name")?.id === id.id) continue;
    if (parent.type === "attribute" && parent.childForFieldName("attribute")?.id === id.id) continue;
    // Captured by a nested function or lambda: it may outlive the call.
    for (let up: SyntaxNode | null = parent; up && up.id !== fn.id; up = up.parent) {
      if (up.type === "function_definition" || up.type === "lambda") return false;
    }
    // Only `name.method(...)`.
    if (parent.type !== "attribute" || parent.childForFieldName("object")?.id !== id.id) return false;
    const method = parent.childForFieldName("attribute")?.text ?? "";
    const invoked = parent.parent?.type === "call" && parent.parent.childForFieldName("function")?.id === parent.id;
    if (!invoked || backgroundMethods.test(method)) return false;
  }
  return bindings === 1;
}

/** Does the right-hand side of the assignment statement mention `name`? */
function rightMentions(statement: SyntaxNode, name: string): boolean {
  const assignment = statement.type === "expression_statement" ? statement.namedChildren[0] : null;
  const right = assignment?.type === "assignment" ? assignment.childForFieldName("right") : null;
  if (!right) return false;
  return (right.type === "identifier" && right.text === name) || right.descendantsOfType("identifier").some((id) => id.text === name);
}

/** `Session(bind=conn)` / `Session(conn)` where the bind is not an engine: it borrows a connection someone else owns. */
function isBorrowedSession(call: SyntaxNode, returns: string): boolean {
  if (returns !== "sqlalchemy.orm.Session" && returns !== "sqlalchemy.ext.asyncio.AsyncSession") return false;
  const fn = call.childForFieldName("function")?.text ?? "";
  if (!/(^|\.)(Async)?Session$/.test(fn)) return false;
  const args = call.childForFieldName("arguments")?.namedChildren ?? [];
  const bind =
    args.find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === "bind")?.childForFieldName("value") ??
    (args[0] && args[0].type !== "keyword_argument" ? args[0] : undefined);
  if (!bind) return false;
  return !/engine/i.test(bind.text);
}

export function isPytestFixture(fn: SyntaxNode): boolean {
  return decoratorNames(fn).some((d) => /(^|\.)fixture$/.test(d));
}

/** Lower one function and run the dataflow. */
export function lowerFunction(fn: SyntaxNode, r: ModuleResolver, mode: LowerMode, classFields: Record<string, string> = {}): LoweredFunction {
  const isAsync = isAsyncNode(fn);
  let lowerer = new Lowerer(fn, r, mode, { pytestFixture: isPytestFixture(fn), isAsync, classFields });
  let truncated = false;
  try {
    lowerer.run();
  } catch (error) {
    if (!(error instanceof TooLarge)) throw error;
    truncated = true;
    lowerer = new Lowerer(fn.childForFieldName("name") ?? fn, r, mode, { pytestFixture: false, isAsync, classFields });
  }
  const graph = lowerer.finish();
  const result = analyzeResources(graph, { unboundIsNotAValue: true });
  return {
    fn,
    name: fn.childForFieldName("name")?.text ?? "?",
    scope: [...scopeOf(fn).split(".").filter((s) => s !== "<module>"), fn.childForFieldName("name")?.text ?? "?"].join("."),
    isAsync,
    isGenerator: ownYields(fn).length > 0,
    decorators: decoratorNames(fn),
    params: lowerer.params,
    graph,
    result,
    sites: lowerer.sites,
    returns: [...lowerer.returns.values()],
    yields: [...lowerer.yields.values()],
    calledParams: [...lowerer.calledParams],
    deferredUses: [...lowerer.deferred.values()],
    globals: lowerer.globals,
    truncated,
    enteredParams: [...lowerer.enteredParams].filter((p) => !lowerer.exitedParams.has(p)),
  };
}
