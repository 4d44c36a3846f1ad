import { ts } from "ts-morph";
import { type Effect, GraphBuilder, type Ref, type Span, type TransferReason } from "../../flow/graph.ts";
import type { CallModel, ModelRegistry, ResourceFacts } from "../../flow/models.ts";
import type { FunctionSummary } from "../../flow/summaries.ts";
import { type FunctionLike, isFunctionLike, nodeRange, unwrapTypes, walk } from "../ast.ts";
import { boundNames, type ClassBase, type FileFacts } from "./file-facts.ts";

// Lowers one TypeScript/JavaScript function (or a module's top level) onto the shared
// GraphBuilder, with resource effects on every node. A pure walk of the syntax that only
// calls the builder, so `finally` bodies can be lowered once per way out.
//
// What a call does comes from the library models (lib/analyzer/models/typescript) and
// the project's function summaries, never from the callee's name: passing a client to
// `callback(client)` is a borrow unless a model or summary says the callee takes it.
// Callbacks run inline: must-run when a model says the callee calls them (a driver's
// result callback, `.finally`, `withTransaction`, `new Promise(executor)`), may-run for a
// success-only `.then`, event subscriptions and unknown callees.

/** Where a tracked value came from, for findings and fixes. */
export type SiteInfo = {
  id: number;
  /** The acquiring expression: the finding's span. */
  node: ts.Node;
  type: string;
  facts: ResourceFacts;
  origin: "call" | "new" | "callback" | "then" | "opens" | "param" | "field";
  /** `pool.connect`, `createQueryRunner`: for messages. */
  calleeText: string;
  /** The receiver expression's text (`pool` in `pool.acquire()`), for `$receiver` fixes. */
  receiverText: string | null;
  /** `const x = <acquisition>` / `let x = ...` directly (what a try/finally fix can wrap). */
  declaration: ts.VariableDeclaration | null;
  /** The function (or source file) that owns the site. */
  owner: ts.Node;
  async: boolean;
  /** The field it is stored in (`this.runner`), when stored directly in the owning method. */
  field: string | null;
  /** The variable it is bound to in the graph (mangled), if any. */
  bound: string | null;
  /** Created while lowering a nested function inside its caller: that function reports it itself. */
  inlined: boolean;
};

export type LowerOptions = {
  /** Seed every parameter with a pseudo-site (for summaries): ids PARAM_SITE + index. */
  paramSites?: boolean;
  /** Seed these `this.<field>` paths as owned at entry (class-level checks): field -> site id. */
  fieldSeeds?: Map<string, number>;
  /** Class facts for `this.x` typing and `this.method()` summaries. */
  classInfo?: ClassInfo | null;
};

export type ClassInfo = { name: string; fieldTypes: Map<string, string> };

export const PARAM_SITE = 1_000_000;

export type LoweredFunction = {
  graph: ReturnType<GraphBuilder["finish"]>;
  sites: SiteInfo[];
  /** Fresh value types returned through `return <unawaited acquisition>` (a promise of a resource). */
  returnsPromiseOf: string | null;
  /** Fresh types returned directly. */
  returnedTypes: Map<number, string>;
  returnedPlain: string | null;
  paramNames: string[];
};

type Value = {
  ref: Ref | null;
  /** Other tracked values carried along (object/array literals, ternaries merge through a synthetic var). */
  refs?: Ref[];
  type: string | null;
  /** Qualified name when the value is an imported package/project binding. */
  qualified: string | null;
  closure?: FunctionLike;
  /** The acquisition already bound this variable (no separate assign needed). */
  boundTo?: string;
  /** Obtained from a resource (a cursor, a stream, a query): callbacks on it are the driver's. */
  derived?: boolean;
  /** An un-awaited call whose promise resolves to a fresh resource of this type (for `.then` and wrappers). */
  promiseOf?: { call: ts.CallExpression; model: CallModel; type: string; receiver: Value | null; calleeText: string };
};

const NONE: Value = { ref: null, type: null, qualified: null };

type Loop = { label: string; userLabel: string | null; isSwitch: boolean };

type Ctx = {
  facts: FileFacts;
  b: GraphBuilder;
  sites: SiteInfo[];
  nextSite: { value: number };
  owner: ts.Node;
  async: boolean;
  scopes: Map<string, string>[];
  varTypes: Map<string, string>;
  localFns: Map<string, FunctionLike>;
  /** Release functions handed to a callback (`done` of `pool.connect((err, client, done) => ...)`). */
  releaseFns: Map<string, Ref>;
  /** Error parameters of callback-style acquisitions: a check of them means "nothing acquired". */
  errorVars: Map<string, Ref>;
  pending: Effect[];
  loops: Loop[];
  labelCounter: { value: number };
  uniqueCounter: { value: number };
  /** Calls do not add exception paths (callback-style code reports errors as arguments; catch blocks). */
  noThrow: number;
  classInfo: ClassInfo | null;
  moduleLevel: boolean;
  /** Sites that are children of a receiver path (`ds.createQueryRunner()`): parent path -> sites. */
  children: Map<string, number[]>;
  /** `new Promise((resolve) => ...)`: resolve functions (calling them hands the value to the awaiting caller). */
  resolvers: Set<string>;
  returnsPromiseOf: string | null;
  returnedTypes: Map<number, string>;
  /** Type of a non-resource value returned (`return new Pool()`, `return pool`). */
  returnedPlain: string | null;
  inlineDepth: number;
  /** Sites created while a local function or callback is lowered inside its caller: reported from their own function. */
  inlined: number;
  /** Inside a statement followed by `throw`: acquisitions there are expected to fail. */
  expectFailure: number;
  /** Inside a finally block: only calls on a tracked resource (`await client.query("COMMIT")`) may throw there. */
  inFinally: number;
  /** `x = <acquisition>`: the acquisition binds x itself (so re-acquiring in a loop is judged against x's old value). */
  bindHint: { node: ts.Node; name: string } | null;
  /**
   * `const qr = this.queryRunner ?? ds.createQueryRunner()`: the sites acquired only when
   * the guard variable was empty. A later `if (this.queryRunner)` knows they were not.
   */
  correlated: Map<string, number[]>;
  /** Values obtained from a resource (`const cursor = client.query(new Cursor())`): its driver calls their callbacks. */
  derived: Set<string>;
  /**
   * `started = true; await runner.startTransaction()` in one block: the flag is true exactly
   * when those sites were acquired, so `if (started) commit()` has nothing to finish on its false side.
   */
  flags: Map<string, number[]>;
  /** Variables whose value was handed away (stored, returned, passed to an owner): what they open later goes along. */
  escaped: Set<string>;
  /** Resources opened on a variable (`client` -> `client@pg.Connection`): they travel with it. */
  opened: Map<string, string[]>;
  /** Variables that were bound to a tracked value somewhere in the function. */
  trackedVars: Set<string>;
  /** The function's own parameters (mangled): what is opened on one belongs to the caller's object. */
  paramVars: Set<string>;
};

export function lowerFunction(
  facts: FileFacts,
  fn: FunctionLike | ts.SourceFile,
  nextSite: { value: number },
  options: LowerOptions = {},
): LoweredFunction {
  const b = new GraphBuilder();
  const ctx: Ctx = {
    facts,
    b,
    sites: [],
    nextSite,
    owner: fn,
    async: ts.isSourceFile(fn) || isAsync(fn),
    scopes: [new Map()],
    varTypes: new Map(),
    localFns: new Map(),
    releaseFns: new Map(),
    errorVars: new Map(),
    pending: [],
    loops: [],
    labelCounter: { value: 0 },
    uniqueCounter: { value: 0 },
    noThrow: 0,
    classInfo: options.classInfo ?? null,
    moduleLevel: ts.isSourceFile(fn),
    children: new Map(),
    resolvers: new Set(),
    returnsPromiseOf: null,
    returnedTypes: new Map(),
    returnedPlain: null,
    inlineDepth: 0,
    inlined: 0,
    expectFailure: 0,
    inFinally: 0,
    bindHint: null,
    correlated: new Map(),
    derived: new Set(),
    flags: new Map(),
    escaped: new Set(),
    opened: new Map(),
    trackedVars: new Set(),
    paramVars: new Set(),
  };
  // A Node-style callback (`(err, client) => ...` as a call's last argument) reports failures
  // through its error argument; an exception thrown inside it goes to the event loop, not to
  // code that could release anything: its calls add no exception paths (a `throw` still leaves).
  if (!ts.isSourceFile(fn) && isErrorFirstCallback(fn) && ts.isCallExpression(fn.parent) && fn.parent.arguments[fn.parent.arguments.length - 1] === fn && !isAsync(fn)) {
    const callee = fn.parent.expression;
    if (!(ts.isPropertyAccessExpression(callee) && PROMISE_METHODS.has(callee.name.text))) ctx.noThrow = 1;
  }
  const paramNames: string[] = [];
  // The executor of `new Promise((resolve) => ...)` analysed on its own: resolve hands values to the awaiting caller.
  const executorOf = !ts.isSourceFile(fn) && ts.isNewExpression(fn.parent) && fn.parent.arguments?.[0] === fn;
  if (!ts.isSourceFile(fn)) {
    fn.parameters.forEach((parameter, index) => {
      const names = boundNames(parameter.name);
      const name = ts.isIdentifier(parameter.name) ? parameter.name.text : null;
      paramNames.push(name ?? "");
      for (const bound of names) ctx.paramVars.add(declare(ctx, bound));
      if (name && index === 0 && executorOf && ts.isIdentifier((fn.parent as ts.NewExpression).expression) && ((fn.parent as ts.NewExpression).expression as ts.Identifier).text === "Promise") {
        ctx.resolvers.add(lookup(ctx, name) ?? name);
      }
      if (name) {
        const type = typeOfAnnotation(facts, parameter.type);
        if (type) ctx.varTypes.set(lookup(ctx, name) ?? name, type);
        if (options.paramSites) {
          b.add([{ kind: "acquire", site: PARAM_SITE + index, bind: lookup(ctx, name) ?? name }], null);
        }
      }
    });
  }
  for (const [field, site] of options.fieldSeeds ?? []) b.add([{ kind: "acquire", site, bind: field }], null);
  if (ts.isSourceFile(fn)) {
    lowerStatements(ctx, fn.statements);
  } else if (fn.body) {
    if (ts.isBlock(fn.body)) lowerStatements(ctx, fn.body.statements);
    else lowerReturn(ctx, fn.body, fn.body);
  }
  flush(ctx, null);
  return {
    graph: b.finish(),
    sites: ctx.sites,
    returnsPromiseOf: ctx.returnsPromiseOf,
    returnedTypes: ctx.returnedTypes,
    returnedPlain: ctx.returnedPlain,
    paramNames,
  };
}

export function isAsync(fn: FunctionLike): boolean {
  return (ts.getCombinedModifierFlags(fn) & ts.ModifierFlags.Async) !== 0;
}

// ---------------------------------------------------------------- scopes

function declare(ctx: Ctx, name: string): string {
  let taken = false;
  for (const scope of ctx.scopes) if (scope.has(name)) taken = true;
  const mangled = taken ? `${name}#${++ctx.uniqueCounter.value}` : name;
  ctx.scopes[ctx.scopes.length - 1].set(name, mangled);
  return mangled;
}

function lookup(ctx: Ctx, name: string): string | null {
  for (let i = ctx.scopes.length - 1; i >= 0; i--) {
    const found = ctx.scopes[i].get(name);
    if (found) return found;
  }
  return null;
}

function withScope(ctx: Ctx, body: () => void): void {
  ctx.scopes.push(new Map());
  try {
    body();
  } finally {
    ctx.scopes.pop();
  }
}

// ---------------------------------------------------------------- emission

function span(ctx: Ctx, node: ts.Node): Span {
  return nodeRange(ctx.facts.sourceFile, node);
}

function flush(ctx: Ctx, node: ts.Node | null): void {
  if (ctx.pending.length === 0) return;
  const effects = ctx.pending;
  ctx.pending = [];
  ctx.b.add(effects, node ? span(ctx, node) : null);
}

function emit(ctx: Ctx, effects: Effect[], node: ts.Node, mayThrow: boolean): void {
  const all = ctx.pending.length > 0 ? [...ctx.pending, ...effects] : effects;
  ctx.pending = [];
  ctx.b.add(all, span(ctx, node), { mayThrow: mayThrow && ctx.noThrow === 0 });
}

function refsOf(value: Value): Ref[] {
  const out: Ref[] = [];
  if (value.ref) out.push(value.ref);
  for (const ref of value.refs ?? []) out.push(ref);
  return out;
}

function use(ctx: Ctx, value: Value, node: ts.Node): void {
  for (const ref of refsOf(value)) ctx.pending.push({ kind: "use", ref, span: span(ctx, node) });
}

function transfer(ctx: Ctx, value: Value, reason: TransferReason, node: ts.Node): void {
  for (const ref of refsOf(value)) {
    ctx.pending.push({ kind: "transfer", ref, reason, span: span(ctx, node) });
    if (!("var" in ref)) continue;
    ctx.escaped.add(ref.var);
    for (const companion of ctx.opened.get(ref.var) ?? []) ctx.pending.push({ kind: "transfer", ref: { var: companion }, reason, span: span(ctx, node) });
  }
  if (value.closure) captureClosure(ctx, value.closure, node);
}

/** A closure that outlives the function owns what it captures. */
function captureClosure(ctx: Ctx, closure: FunctionLike, node: ts.Node): void {
  const names = new Set<string>();
  if (closure.body)
    walk(closure.body, (child) => {
      if (ts.isIdentifier(child)) names.add(child.text);
      return true;
    });
  for (const name of names) {
    const mangled = lookup(ctx, name);
    if (mangled) ctx.pending.push({ kind: "transfer", ref: { var: mangled }, reason: "captured", span: span(ctx, node) });
  }
}

function newSite(ctx: Ctx, info: Omit<SiteInfo, "id" | "owner" | "async" | "field" | "bound" | "inlined">, own = false): number {
  const id = ++ctx.nextSite.value;
  ctx.sites.push({ ...info, id, owner: ctx.owner, async: ctx.async, field: null, bound: null, inlined: ctx.inlined > 0 && !own });
  return id;
}

function siteInfo(ctx: Ctx, id: number): SiteInfo | undefined {
  return ctx.sites.find((site) => site.id === id);
}

// ---------------------------------------------------------------- statements

function lowerStatements(ctx: Ctx, statements: readonly ts.Statement[]): void {
  const firstSite = ctx.sites.length;
  const flags = statements.flatMap((statement) => {
    if (!ts.isExpressionStatement(statement)) return [];
    const e = statement.expression;
    if (!ts.isBinaryExpression(e) || e.operatorToken.kind !== ts.SyntaxKind.EqualsToken || e.right.kind !== ts.SyntaxKind.TrueKeyword) return [];
    return ts.isIdentifier(e.left) ? [e.left.text] : [];
  });
  try {
    lowerStatementList(ctx, statements);
  } finally {
    if (flags.length > 0 && ctx.sites.length > firstSite) {
      const sites = ctx.sites.slice(firstSite).map((site) => site.id);
      for (const flag of flags) {
        const mangled = lookup(ctx, flag);
        if (mangled) ctx.flags.set(mangled, [...(ctx.flags.get(mangled) ?? []), ...sites]);
      }
    }
  }
}

function lowerStatementList(ctx: Ctx, statements: readonly ts.Statement[]): void {
  // Function declarations are hoisted: known before the statements run.
  for (const statement of statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name && !ctx.moduleLevel) {
      ctx.localFns.set(declare(ctx, statement.name.text), statement);
    }
  }
  for (let i = 0; i < statements.length; i++) {
    const statement = statements[i];
    if (!ctx.b.reachable) return;
    if (ts.isVariableStatement(statement) && (statement.declarationList.flags & ts.NodeFlags.Using) !== 0) {
      lowerUsing(ctx, statement, statements.slice(i + 1));
      return;
    }
    lowerStatement(ctx, statement);
  }
}

/** `using x = ...` / `await using x = ...`: the rest of the block runs in a try whose finally disposes x. */
function lowerUsing(ctx: Ctx, statement: ts.VariableStatement, rest: readonly ts.Statement[]): void {
  lowerStatement(ctx, statement);
  const names = statement.declarationList.declarations.flatMap((d) => boundNames(d.name)).map((name) => lookup(ctx, name) ?? name);
  ctx.b.try({
    body: () => lowerStatements(ctx, rest),
    handlers: [],
    finally: () => {
      ctx.b.add(
        names.map((name) => ({ kind: "release" as const, ref: { var: name }, span: span(ctx, statement), how: "dispose" })),
        span(ctx, statement),
      );
    },
  });
}

function lowerBlock(ctx: Ctx, statement: ts.Statement): void {
  if (ts.isBlock(statement)) withScope(ctx, () => lowerStatements(ctx, statement.statements));
  else withScope(ctx, () => lowerStatements(ctx, [statement]));
}

function lowerStatement(ctx: Ctx, statement: ts.Statement): void {
  const { b } = ctx;
  if (ts.isBlock(statement)) {
    lowerBlock(ctx, statement);
    return;
  }
  if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement)) return;
  if (ts.isTypeAliasDeclaration(statement) || ts.isEmptyStatement(statement) || ts.isImportDeclaration(statement)) return;
  if (ts.isEnumDeclaration(statement) || ts.isModuleDeclaration(statement) || ts.isImportEqualsDeclaration(statement)) return;
  if (ts.isExportDeclaration(statement) || ts.isExportAssignment(statement)) {
    if (ts.isExportAssignment(statement)) {
      const value = lowerExpr(ctx, statement.expression);
      transfer(ctx, value, "stored-container", statement);
      flush(ctx, statement);
    }
    return;
  }
  if (ts.isVariableStatement(statement)) {
    for (const declaration of statement.declarationList.declarations) lowerDeclaration(ctx, declaration);
    flush(ctx, statement);
    return;
  }
  if (ts.isExpressionStatement(statement)) {
    // `await pool.connect(); throw new Error("expected the database to be down")`: the call is meant to fail.
    const next = ts.isBlock(statement.parent) ? statement.parent.statements[statement.parent.statements.indexOf(statement) + 1] : undefined;
    if (next && ts.isThrowStatement(next)) ctx.expectFailure++;
    try {
      lowerExpr(ctx, statement.expression);
    } finally {
      if (next && ts.isThrowStatement(next)) ctx.expectFailure--;
    }
    flush(ctx, statement);
    return;
  }
  if (ts.isReturnStatement(statement)) {
    if (statement.expression) {
      lowerReturn(ctx, statement.expression, statement);
      return;
    }
    flush(ctx, statement);
    b.return([], span(ctx, statement));
    return;
  }
  if (ts.isThrowStatement(statement)) {
    if (statement.expression) lowerExpr(ctx, statement.expression);
    const effects = ctx.pending;
    ctx.pending = [];
    b.raise(effects, span(ctx, statement));
    return;
  }
  if (ts.isIfStatement(statement)) {
    const guards = lowerCondition(ctx, statement.expression);
    flush(ctx, statement.expression);
    b.branch(
      null,
      () => {
        if (guards.whenTrue.length > 0) b.add(guards.whenTrue, null);
        const before = ctx.sites.length;
        lowerBlock(ctx, statement.thenStatement);
        if (ctx.sites.length > before) {
          const sites = ctx.sites.slice(before).map((site) => site.id);
          for (const flag of impliedFlags(ctx, statement)) ctx.flags.set(flag, [...(ctx.flags.get(flag) ?? []), ...sites]);
        }
      },
      () => {
        if (guards.whenFalse.length > 0) b.add(guards.whenFalse, null);
        if (statement.elseStatement) lowerBlock(ctx, statement.elseStatement);
      },
    );
    return;
  }
  if (ts.isTryStatement(statement)) {
    const handler = statement.catchClause;
    b.try({
      body: () => lowerBlock(ctx, statement.tryBlock),
      handlers: handler
        ? [
            {
              catchesAll: true,
              body: () =>
                withScope(ctx, () => {
                  if (handler.variableDeclaration) for (const name of boundNames(handler.variableDeclaration.name)) declare(ctx, name);
                  // A failure while handling a failure is not this rule's bug: calls in a catch
                  // block add no exception paths (a rethrow still leaves).
                  ctx.noThrow++;
                  try {
                    lowerStatements(ctx, handler.block.statements);
                  } finally {
                    ctx.noThrow--;
                  }
                }),
            },
          ]
        : [],
      // Cleanup code: a failure while releasing one thing is not a leak of the next.
      finally: statement.finallyBlock
        ? () => {
            ctx.inFinally++;
            try {
              lowerBlock(ctx, statement.finallyBlock as ts.Block);
            } finally {
              ctx.inFinally--;
            }
          }
        : null,
    });
    return;
  }
  if (ts.isLabeledStatement(statement)) {
    const inner = statement.statement;
    if (isLoop(inner)) {
      lowerLoop(ctx, inner, statement.label.text);
      return;
    }
    lowerStatement(ctx, inner);
    return;
  }
  if (isLoop(statement)) {
    lowerLoop(ctx, statement, null);
    return;
  }
  if (ts.isSwitchStatement(statement)) {
    lowerSwitch(ctx, statement);
    return;
  }
  if (ts.isBreakStatement(statement) || ts.isContinueStatement(statement)) {
    flush(ctx, statement);
    const userLabel = statement.label?.text ?? null;
    const isBreak = ts.isBreakStatement(statement);
    let target: Loop | undefined;
    for (let i = ctx.loops.length - 1; i >= 0; i--) {
      const loop = ctx.loops[i];
      if (userLabel !== null ? loop.userLabel === userLabel : isBreak || !loop.isSwitch) {
        target = loop;
        break;
      }
    }
    if (target) b.jump(isBreak ? "break" : "continue", target.label);
    else b.add([], span(ctx, statement)); // break out of a labelled block: keep going
    return;
  }
  // with, debugger, ...: evaluate sub-expressions for their effects.
  statement.forEachChild((child) => {
    if (ts.isExpression(child)) lowerExpr(ctx, child);
  });
  flush(ctx, statement);
}

type IterationStatement = ts.ForStatement | ts.ForOfStatement | ts.ForInStatement | ts.WhileStatement | ts.DoStatement;

function isLoop(statement: ts.Statement): statement is IterationStatement {
  return (
    ts.isForStatement(statement) ||
    ts.isForOfStatement(statement) ||
    ts.isForInStatement(statement) ||
    ts.isWhileStatement(statement) ||
    ts.isDoStatement(statement)
  );
}

function lowerLoop(ctx: Ctx, statement: IterationStatement, userLabel: string | null): void {
  const { b } = ctx;
  const label = `L${++ctx.labelCounter.value}`;
  withScope(ctx, () => {
    if (ts.isForStatement(statement) && statement.initializer) {
      if (ts.isVariableDeclarationList(statement.initializer)) for (const d of statement.initializer.declarations) lowerDeclaration(ctx, d);
      else lowerExpr(ctx, statement.initializer);
    }
    if ((ts.isForOfStatement(statement) || ts.isForInStatement(statement)) && statement.expression) lowerExpr(ctx, statement.expression);
    flush(ctx, statement);
    ctx.loops.push({ label, userLabel, isSwitch: false });
    const condition = ts.isForStatement(statement) ? statement.condition : ts.isWhileStatement(statement) ? statement.expression : undefined;
    b.loop(
      null,
      () =>
        withScope(ctx, () => {
          if (ts.isForOfStatement(statement) || ts.isForInStatement(statement)) {
            const init = statement.initializer;
            const names = ts.isVariableDeclarationList(init) ? init.declarations.flatMap((d) => boundNames(d.name)) : [];
            for (const name of names) ctx.pending.push({ kind: "assign", target: declare(ctx, name), source: null });
            if (!ts.isVariableDeclarationList(init)) lowerAssignTarget(ctx, init, NONE, init);
            flush(ctx, statement);
          }
          if (condition) {
            lowerExpr(ctx, condition);
            flush(ctx, condition);
            b.branch(null, () => undefined, () => b.jump("break", label));
          }
          lowerBlock(ctx, statement.statement);
          if (ts.isForStatement(statement) && statement.incrementor && b.reachable) {
            lowerExpr(ctx, statement.incrementor);
            flush(ctx, statement.incrementor);
          }
          if (ts.isDoStatement(statement) && b.reachable) {
            lowerExpr(ctx, statement.expression);
            flush(ctx, statement.expression);
          }
        }),
      { label, mayRunZeroTimes: !ts.isDoStatement(statement) },
    );
    ctx.loops.pop();
  });
}

function lowerSwitch(ctx: Ctx, statement: ts.SwitchStatement): void {
  const { b } = ctx;
  lowerExpr(ctx, statement.expression);
  flush(ctx, statement.expression);
  const label = `S${++ctx.labelCounter.value}`;
  const clauses = statement.caseBlock.clauses;
  const hasDefault = clauses.some((clause) => ts.isDefaultClause(clause));
  ctx.loops.push({ label, userLabel: null, isSwitch: true });
  // A one-shot loop gives `break` its target; each arm runs from its clause on (fall-through).
  b.loop(
    null,
    () => {
      b.alternatives(
        clauses.map((_clause, start) => () =>
          withScope(ctx, () => {
            for (let i = start; i < clauses.length && b.reachable; i++) lowerStatements(ctx, clauses[i].statements);
          }),
        ),
        !hasDefault,
      );
      b.jump("break", label);
    },
    { label, infinite: true },
  );
  ctx.loops.pop();
}

function lowerDeclaration(ctx: Ctx, declaration: ts.VariableDeclaration): void {
  const init = declaration.initializer;
  if (!ts.isIdentifier(declaration.name)) {
    const value = init ? lowerExpr(ctx, init) : NONE;
    use(ctx, value, declaration);
    for (const name of boundNames(declaration.name)) ctx.pending.push({ kind: "assign", target: declare(ctx, name), source: null });
    return;
  }
  const name = declaration.name.text;
  if (init && isFunctionLike(unwrapTypes(init))) {
    const mangled = declare(ctx, name);
    ctx.localFns.set(mangled, unwrapTypes(init) as FunctionLike);
    return;
  }
  const mangled = declare(ctx, name);
  const value = init ? withBindHint(ctx, init, mangled, () => lowerExpr(ctx, init)) : NONE;
  // `const client = (this.client = new pg.Client())`: the value is also kept elsewhere.
  const initCore = init ? unwrapTypes(init) : undefined;
  if (initCore && ts.isBinaryExpression(initCore) && initCore.operatorToken.kind === ts.SyntaxKind.EqualsToken && !ts.isIdentifier(unwrapTypes(initCore.left))) ctx.escaped.add(mangled);
  const annotated = typeOfAnnotation(ctx.facts, declaration.type);
  const type = value.type ?? annotated;
  if (type) ctx.varTypes.set(mangled, type);
  bindValue(ctx, mangled, value, declaration);
  // `createQueryRunner() as MongoQueryRunner`: a MongoDB runner holds no pooled connection.
  if (value.ref && "temp" in value.ref) {
    const site = siteInfo(ctx, value.ref.temp);
    if (site) {
      site.bound = mangled;
      if (site.node === acquisitionCore(init)) site.declaration = declaration;
      const typeText = declaration.type?.getText(ctx.facts.sourceFile) ?? (init && ts.isAsExpression(init) ? init.type.getText(ctx.facts.sourceFile) : "");
      if (/Mongo/.test(typeText) && site.facts.rule === "query-runner-not-released") ctx.pending.push({ kind: "transfer", ref: value.ref, reason: "passed-owner", span: span(ctx, declaration) });
    }
  }
}

/** The acquisition call or `new` inside `await (x as T)` wrappers. */
function acquisitionCore(init: ts.Expression | undefined): ts.Node | undefined {
  if (!init) return undefined;
  let current = unwrapTypes(init);
  while (ts.isAwaitExpression(current)) current = unwrapTypes(current.expression);
  return current;
}

function withBindHint(ctx: Ctx, init: ts.Expression, name: string, lower: () => Value): Value {
  const saved = ctx.bindHint;
  const core = acquisitionCore(init);
  ctx.bindHint = core ? { node: core, name } : null;
  try {
    return lower();
  } finally {
    ctx.bindHint = saved;
  }
}

function bindValue(ctx: Ctx, target: string, value: Value, node: ts.Node): void {
  const refs = refsOf(value);
  if (value.derived) ctx.derived.add(target);
  if (value.closure) ctx.localFns.set(target, value.closure);
  // Variables that never hold a tracked value stay out of the dataflow's state (speed: the
  // state is copied at every node).
  if (refs.length > 0) ctx.trackedVars.add(target);
  else if (!ctx.trackedVars.has(target)) return;
  if (value.boundTo !== target || refs.length !== 1) ctx.pending.push({ kind: "assign", target, source: refs[0] ?? null });
  if (refs.length > 1) {
    // `const o = { a, b }`: the object carries both; a use or return of `o` reaches them through aliases.
    for (const extra of refs.slice(1)) ctx.pending.push({ kind: "assign", target: `${target}$${refs.indexOf(extra)}`, source: extra });
  }
  void node;
}

function lowerReturn(ctx: Ctx, expression: ts.Expression, node: ts.Node): void {
  const value = lowerExpr(ctx, expression);
  if (value.promiseOf) ctx.returnsPromiseOf = value.promiseOf.type;
  if (value.ref && "temp" in value.ref) {
    const site = siteInfo(ctx, value.ref.temp);
    if (site) ctx.returnedTypes.set(site.id, site.type);
  }
  if (value.ref && "var" in value.ref) {
    // `await client.connect(); return client`: what was opened on the client goes with it.
    // Not for a parameter: `connect(client); return client` gives the caller back its own object.
    const bound = new Set([value.ref.var, ...(ctx.paramVars.has(value.ref.var) ? [] : (ctx.opened.get(value.ref.var) ?? []))]);
    for (const site of ctx.sites) if (site.bound !== null && bound.has(site.bound)) ctx.returnedTypes.set(site.id, site.type);
  }
  if (ctx.inlineDepth === 0 && value.type && !ctx.facts.registry.types.get(value.type)?.resource) ctx.returnedPlain = value.type;
  transfer(ctx, value, "returned", node);
  // `return o` where o = { client, ... }: the object's other members go along.
  if (value.ref && "var" in value.ref) {
    for (let i = 1; i < 8; i++) ctx.pending.push({ kind: "transfer", ref: { var: `${value.ref.var}$${i}` }, reason: "returned", span: span(ctx, node) });
  }
  const effects = ctx.pending;
  ctx.pending = [];
  if (ctx.inlineDepth > 0) {
    ctx.b.add(effects, span(ctx, node));
    ctx.b.jump("break", currentInlineLabel(ctx));
    return;
  }
  ctx.b.return(effects, span(ctx, node));
}

function currentInlineLabel(ctx: Ctx): string {
  for (let i = ctx.loops.length - 1; i >= 0; i--) if (ctx.loops[i].label.startsWith("F")) return ctx.loops[i].label;
  return "";
}

// ---------------------------------------------------------------- conditions

/** Effects that hold on each side of a condition: `if (!client)`: on the true side nothing was acquired. */
/**
 * `const owned = qr === undefined || ...; if (qr === undefined || owned) qr = create()`: every
 * disjunct of the condition is the const flag itself or one of the flag's own disjuncts, so
 * the condition implies the flag and what is made under it exists only when the flag is true
 * (a later `if (owned) release()` has nothing to release on its false side). The names the
 * flag was computed from must not be assigned between its declaration and the condition.
 */
function impliedFlags(ctx: Ctx, statement: ts.IfStatement): string[] {
  const parent = statement.parent;
  if (!ts.isBlock(parent) && !ts.isSourceFile(parent) && !ts.isCaseClause(parent) && !ts.isDefaultClause(parent)) return [];
  const siblings = parent.statements;
  const at = siblings.indexOf(statement);
  const text = (e: ts.Expression) => e.getText(ctx.facts.sourceFile).replace(/\s+/g, "");
  const disjuncts = (e: ts.Expression): string[] => {
    const u = unwrapTypes(e);
    return ts.isBinaryExpression(u) && u.operatorToken.kind === ts.SyntaxKind.BarBarToken ? [...disjuncts(u.left), ...disjuncts(u.right)] : [text(u)];
  };
  const condition = disjuncts(statement.expression);
  const out: string[] = [];
  for (let i = at - 1; i >= 0; i--) {
    const sibling = siblings[i];
    if (!ts.isVariableStatement(sibling) || (sibling.declarationList.flags & ts.NodeFlags.Const) === 0) continue;
    for (const declaration of sibling.declarationList.declarations) {
      if (!ts.isIdentifier(declaration.name) || !declaration.initializer) continue;
      const allowed = new Set([declaration.name.text, ...disjuncts(declaration.initializer)]);
      if (!condition.every((part) => allowed.has(part))) continue;
      const names = new Set<string>();
      walk(declaration.initializer, (node) => {
        if (ts.isIdentifier(node)) names.add(node.text);
        return true;
      });
      if (siblings.slice(i + 1, at).some((between) => assignsAny(between, names))) continue;
      const mangled = lookup(ctx, declaration.name.text);
      if (mangled) out.push(mangled);
    }
  }
  return out;
}

function assignsAny(node: ts.Node, names: ReadonlySet<string>): boolean {
  let found = false;
  const target = (e: ts.Expression) => {
    walk(e, (child) => {
      if (ts.isIdentifier(child) && names.has(child.text)) found = true;
      return !found;
    });
    if (ts.isIdentifier(e) && names.has(e.text)) found = true;
  };
  walk(node, (child) => {
    if (ts.isBinaryExpression(child) && child.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && child.operatorToken.kind <= ts.SyntaxKind.LastAssignment) target(child.left);
    if ((ts.isPrefixUnaryExpression(child) || ts.isPostfixUnaryExpression(child)) && (child.operator === ts.SyntaxKind.PlusPlusToken || child.operator === ts.SyntaxKind.MinusMinusToken)) target(child.operand);
    return !found;
  });
  return found;
}

function lowerCondition(ctx: Ctx, expression: ts.Expression): { whenTrue: Effect[]; whenFalse: Effect[] } {
  lowerExpr(ctx, expression);
  return guardsOf(ctx, expression);
}

function guardsOf(ctx: Ctx, expression: ts.Expression): { whenTrue: Effect[]; whenFalse: Effect[] } {
  const e = unwrapTypes(expression);
  const none = { whenTrue: [] as Effect[], whenFalse: [] as Effect[] };
  // The error argument of a callback-style acquisition: when it is set, no client was given.
  for (const [errorVar, ref] of ctx.errorVars) {
    if (mentions(e, errorVar, ctx)) {
      const direct = ts.isIdentifier(e) || (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.BarBarToken);
      if (direct) return { whenTrue: [{ kind: "absent", ref }], whenFalse: [] };
    }
  }
  if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.ExclamationToken) {
    const inner = guardsOf(ctx, e.operand);
    return { whenTrue: inner.whenFalse, whenFalse: inner.whenTrue };
  }
  const tracked = trackedRef(ctx, e);
  if (tracked) {
    const correlated = "var" in tracked ? (ctx.correlated.get(tracked.var) ?? []) : [];
    const flagged = "var" in tracked ? (ctx.flags.get(tracked.var) ?? []) : [];
    return {
      whenTrue: correlated.map((site) => ({ kind: "absent" as const, ref: { temp: site } })),
      whenFalse: [{ kind: "absent", ref: tracked }, ...flagged.map((site) => ({ kind: "absent" as const, ref: { temp: site } }))],
    };
  }
  // `flag === true`
  if (ts.isBinaryExpression(e) && e.right.kind === ts.SyntaxKind.TrueKeyword) {
    const op = e.operatorToken.kind;
    if (op === ts.SyntaxKind.EqualsEqualsEqualsToken || op === ts.SyntaxKind.EqualsEqualsToken) return guardsOf(ctx, e.left);
  }
  // `runner.isReleased`: when true there is nothing left to release.
  if (ts.isPropertyAccessExpression(e) && /^(is)?(released|closed|ended|destroyed)$/i.test(e.name.text)) {
    const owner = trackedRef(ctx, unwrapTypes(e.expression));
    if (owner) return { whenTrue: [{ kind: "absent", ref: owner }], whenFalse: [] };
  }
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    const isNullish = (side: ts.Expression) => {
      const s = unwrapTypes(side);
      return s.kind === ts.SyntaxKind.NullKeyword || (ts.isIdentifier(s) && s.text === "undefined");
    };
    const subject = isNullish(e.right) ? trackedRef(ctx, unwrapTypes(e.left)) : isNullish(e.left) ? trackedRef(ctx, unwrapTypes(e.right)) : null;
    if (subject) {
      if (op === ts.SyntaxKind.EqualsEqualsToken || op === ts.SyntaxKind.EqualsEqualsEqualsToken) return { whenTrue: [{ kind: "absent", ref: subject }], whenFalse: [] };
      if (op === ts.SyntaxKind.ExclamationEqualsToken || op === ts.SyntaxKind.ExclamationEqualsEqualsToken) return { whenTrue: [], whenFalse: [{ kind: "absent", ref: subject }] };
    }
    if (op === ts.SyntaxKind.AmpersandAmpersandToken) {
      const left = guardsOf(ctx, e.left);
      const right = guardsOf(ctx, e.right);
      return { whenTrue: [...left.whenTrue, ...right.whenTrue], whenFalse: [] };
    }
    if (op === ts.SyntaxKind.BarBarToken) {
      const left = guardsOf(ctx, e.left);
      const right = guardsOf(ctx, e.right);
      return { whenTrue: [], whenFalse: [...left.whenFalse, ...right.whenFalse] };
    }
  }
  return none;
}

function mentions(node: ts.Node, mangled: string, ctx: Ctx): boolean {
  let found = false;
  const check = (child: ts.Node): boolean => {
    if (ts.isIdentifier(child) && lookup(ctx, child.text) === mangled) {
      const parent = child.parent;
      if (!(ts.isPropertyAccessExpression(parent) && parent.name === child)) found = true;
    }
    return !found;
  };
  if (check(node)) walk(node, check);
  return found;
}

/** A reference to a local variable or `this.x` path (what the dataflow tracks). */
function trackedRef(ctx: Ctx, e: ts.Expression): Ref | null {
  if (ts.isIdentifier(e)) {
    const mangled = lookup(ctx, e.text);
    return mangled ? { var: mangled } : ctx.facts.moduleNames.has(e.text) ? { var: e.text } : null;
  }
  if (ts.isPropertyAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword) return { var: `this.${e.name.text}` };
  return null;
}

// ---------------------------------------------------------------- expressions

function lowerExpr(ctx: Ctx, expression: ts.Expression, awaited = false): Value {
  const e = expression;
  if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e)) {
    return lowerExpr(ctx, e.expression, awaited);
  }
  if (ts.isAwaitExpression(e)) return lowerExpr(ctx, e.expression, true);
  if (ts.isIdentifier(e)) return identifierValue(ctx, e);
  if (e.kind === ts.SyntaxKind.ThisKeyword) return { ref: null, type: null, qualified: "this" };
  if (ts.isCallExpression(e)) return lowerCall(ctx, e, awaited);
  if (ts.isNewExpression(e)) return lowerNew(ctx, e);
  if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) return lowerAccess(ctx, e);
  if (isFunctionLike(e)) return { ...NONE, closure: e };
  if (ts.isConditionalExpression(e)) {
    const guards = lowerCondition(ctx, e.condition);
    flush(ctx, e.condition);
    return merged(ctx, e, [
      () => {
        if (guards.whenTrue.length) ctx.b.add(guards.whenTrue, null);
        return lowerExpr(ctx, e.whenTrue, awaited);
      },
      () => {
        if (guards.whenFalse.length) ctx.b.add(guards.whenFalse, null);
        return lowerExpr(ctx, e.whenFalse, awaited);
      },
    ]);
  }
  if (ts.isBinaryExpression(e)) return lowerBinary(ctx, e);
  if (ts.isObjectLiteralExpression(e)) {
    const refs: Ref[] = [];
    for (const property of e.properties) {
      if (ts.isShorthandPropertyAssignment(property)) refs.push(...refsOf(identifierValue(ctx, property.name)));
      else if (ts.isPropertyAssignment(property)) refs.push(...refsOf(lowerExpr(ctx, property.initializer)));
      else if (ts.isSpreadAssignment(property)) refs.push(...refsOf(lowerExpr(ctx, property.expression)));
    }
    return { ref: null, refs, type: null, qualified: null };
  }
  if (ts.isArrayLiteralExpression(e)) {
    const refs: Ref[] = [];
    for (const element of e.elements) refs.push(...refsOf(lowerExpr(ctx, ts.isSpreadElement(element) ? element.expression : element)));
    return { ref: null, refs, type: null, qualified: null };
  }
  if (ts.isYieldExpression(e)) {
    const value = e.expression ? lowerExpr(ctx, e.expression) : NONE;
    transfer(ctx, value, "yielded-out", e);
    const effects = ctx.pending;
    ctx.pending = [];
    ctx.b.yieldPoint(effects, span(ctx, e));
    return NONE;
  }
  if (ts.isTemplateExpression(e)) {
    for (const part of e.templateSpans) use(ctx, lowerExpr(ctx, part.expression), part);
    return NONE;
  }
  if (ts.isTaggedTemplateExpression(e)) {
    use(ctx, lowerExpr(ctx, e.tag), e);
    if (ts.isTemplateExpression(e.template)) for (const part of e.template.templateSpans) use(ctx, lowerExpr(ctx, part.expression), part);
    emit(ctx, [], e, true);
    return NONE;
  }
  if (ts.isPrefixUnaryExpression(e) || ts.isPostfixUnaryExpression(e)) {
    lowerExpr(ctx, e.operand);
    return NONE;
  }
  if (ts.isTypeOfExpression(e) || ts.isVoidExpression(e) || ts.isDeleteExpression(e)) {
    lowerExpr(ctx, e.expression, awaited);
    return NONE;
  }
  if (ts.isSpreadElement(e)) return lowerExpr(ctx, e.expression);
  if (ts.isClassExpression(e)) return NONE;
  return NONE;
}

/** Alternatives whose values meet in one synthetic variable (ternaries, `a ?? b`). */
function merged(ctx: Ctx, node: ts.Node, arms: (() => Value)[]): Value {
  const target = `$v${++ctx.uniqueCounter.value}`;
  const types: (string | null)[] = [];
  let promiseOf: Value["promiseOf"];
  let closure: FunctionLike | undefined;
  ctx.b.alternatives(
    arms.map((arm) => () => {
      const value = arm();
      types.push(value.type);
      if (value.ref && "temp" in value.ref) {
        const site = siteInfo(ctx, value.ref.temp);
        if (site && site.bound === null) site.bound = target;
      }
      promiseOf ??= value.promiseOf;
      closure ??= value.closure;
      bindValue(ctx, target, value, node);
      flush(ctx, node);
    }),
    false,
  );
  return { ref: { var: target }, type: types.find((t) => t !== null) ?? null, qualified: null, promiseOf, closure };
}

function identifierValue(ctx: Ctx, e: ts.Identifier): Value {
  const mangled = lookup(ctx, e.text);
  if (mangled) {
    const closure = ctx.localFns.get(mangled);
    return { ref: { var: mangled }, type: ctx.varTypes.get(mangled) ?? null, qualified: null, closure };
  }
  const qualified = ctx.facts.imports.get(e.text);
  if (qualified) return { ref: null, type: typeOfQualified(ctx.facts, qualified), qualified };
  if (ctx.facts.moduleNames.has(e.text)) {
    return { ref: { var: e.text }, type: ctx.facts.moduleTypes.get(e.text) ?? null, qualified: `${ctx.facts.path}#${e.text}` };
  }
  return { ref: null, type: null, qualified: null };
}

function lowerAccess(ctx: Ctx, e: ts.PropertyAccessExpression | ts.ElementAccessExpression): Value {
  if (ts.isPropertyAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword) {
    const field = e.name.text;
    return { ref: { var: `this.${field}` }, type: ctx.classInfo?.fieldTypes.get(field) ?? null, qualified: null };
  }
  const object = lowerExpr(ctx, e.expression);
  const name = ts.isPropertyAccessExpression(e) ? e.name.text : ts.isStringLiteralLike(e.argumentExpression) ? e.argumentExpression.text : null;
  if (ts.isElementAccessExpression(e)) lowerExpr(ctx, e.argumentExpression);
  if (object.qualified && name) {
    const qualified = object.qualified.endsWith("#*") || object.qualified.endsWith("#default") ? `${object.qualified.replace(/#(\*|default)$/, "")}#${name}` : object.qualified.includes("#") ? null : `${object.qualified}.${name}`;
    if (qualified) return { ref: null, type: typeOfQualified(ctx.facts, qualified), qualified };
  }
  use(ctx, object, e);
  return NONE;
}

function lowerBinary(ctx: Ctx, e: ts.BinaryExpression): Value {
  const op = e.operatorToken.kind;
  if (op === ts.SyntaxKind.EqualsToken) {
    const target = ts.isIdentifier(unwrapTypes(e.left)) ? lookup(ctx, (unwrapTypes(e.left) as ts.Identifier).text) : null;
    const value = target ? withBindHint(ctx, e.right, target, () => lowerExpr(ctx, e.right)) : lowerExpr(ctx, e.right);
    lowerAssignTarget(ctx, e.left, value, e);
    return value;
  }
  if (op === ts.SyntaxKind.QuestionQuestionEqualsToken || op === ts.SyntaxKind.BarBarEqualsToken || op === ts.SyntaxKind.AmpersandAmpersandEqualsToken) {
    lowerExpr(ctx, e.left);
    flush(ctx, e.left);
    let value: Value = NONE;
    ctx.b.branch(
      null,
      () => {
        value = lowerExpr(ctx, e.right);
        lowerAssignTarget(ctx, e.left, value, e);
        flush(ctx, e);
      },
      null,
    );
    return { ...NONE, type: value.type };
  }
  if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken) {
    const left = lowerExpr(ctx, e.left);
    flush(ctx, e.left);
    const guards = guardsOf(ctx, e.left);
    const guard = op !== ts.SyntaxKind.AmpersandAmpersandToken ? trackedRef(ctx, unwrapTypes(e.left)) : null;
    const before = ctx.sites.length;
    const value = merged(ctx, e, [
      () => left,
      () => {
        const effects = op === ts.SyntaxKind.AmpersandAmpersandToken ? guards.whenTrue : guards.whenFalse;
        if (effects.length) ctx.b.add(effects, null);
        return lowerExpr(ctx, e.right);
      },
    ]);
    if (guard && "var" in guard && ctx.sites.length > before) {
      ctx.correlated.set(guard.var, [...(ctx.correlated.get(guard.var) ?? []), ...ctx.sites.slice(before).map((site) => site.id)]);
    }
    return value;
  }
  if (op === ts.SyntaxKind.CommaToken) {
    lowerExpr(ctx, e.left);
    return lowerExpr(ctx, e.right);
  }
  // Arithmetic and comparisons: generated code chains thousands of them (`a + b + c + ...`);
  // walk the left spine iteratively instead of recursing.
  const operands: ts.Expression[] = [e.right];
  let left: ts.Expression = e.left;
  while (ts.isBinaryExpression(left) && !SPECIAL_OPERATORS.has(left.operatorToken.kind)) {
    operands.push(left.right);
    left = left.left;
  }
  operands.push(left);
  for (let i = operands.length - 1; i >= 0; i--) use(ctx, lowerExpr(ctx, operands[i]), operands[i]);
  return NONE;
}

const SPECIAL_OPERATORS = new Set([
  ts.SyntaxKind.EqualsToken,
  ts.SyntaxKind.QuestionQuestionEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken,
  ts.SyntaxKind.AmpersandAmpersandEqualsToken,
  ts.SyntaxKind.AmpersandAmpersandToken,
  ts.SyntaxKind.BarBarToken,
  ts.SyntaxKind.QuestionQuestionToken,
  ts.SyntaxKind.CommaToken,
]);

function lowerAssignTarget(ctx: Ctx, target: ts.Expression | ts.ForInitializer, value: Value, node: ts.Node): void {
  const left = ts.isExpression(target) ? unwrapTypes(target) : null;
  if (!left) return;
  if (ts.isIdentifier(left)) {
    const mangled = lookup(ctx, left.text);
    if (mangled) {
      if (value.type) ctx.varTypes.set(mangled, value.type);
      bindValue(ctx, mangled, value, node);
      if (value.ref && "temp" in value.ref) {
        const site = siteInfo(ctx, value.ref.temp);
        if (site) site.bound = mangled;
      }
      return;
    }
    // A module-level or outer variable: the value outlives the call, unless this function
    // releases it itself (`runner = ds.createQueryRunner(); ...; await runner.release()`).
    bindValue(ctx, left.text, value, node);
    if (!releasedHere(ctx, left.text) || releasedByEnclosingScope(ctx, left.text)) transfer(ctx, value, "stored-container", node);
    return;
  }
  if (ts.isPropertyAccessExpression(left) && left.expression.kind === ts.SyntaxKind.ThisKeyword) {
    const path = `this.${left.name.text}`;
    // Stored in a field and released by this same method: judged here, path by path.
    if (releasedHere(ctx, path)) {
      bindValue(ctx, path, value, node);
      return;
    }
    for (const ref of refsOf(value)) {
      if ("temp" in ref) {
        const site = siteInfo(ctx, ref.temp);
        if (site && !site.field) site.field = path;
      } else {
        for (const site of ctx.sites) if (site.bound === ref.var && !site.field) site.field = path;
      }
    }
    bindValue(ctx, path, value, node);
    transfer(ctx, value, "stored-field", node);
    return;
  }
  if (ts.isPropertyAccessExpression(left) || ts.isElementAccessExpression(left)) {
    use(ctx, lowerExpr(ctx, left.expression), left);
    if (ts.isElementAccessExpression(left)) lowerExpr(ctx, left.argumentExpression);
    transfer(ctx, value, "stored-container", node);
    return;
  }
  if (ts.isObjectLiteralExpression(left) || ts.isArrayLiteralExpression(left)) {
    use(ctx, value, node);
    const visit = (child: ts.Node): void => {
      if (ts.isIdentifier(child)) {
        const mangled = lookup(ctx, child.text);
        if (mangled) ctx.pending.push({ kind: "assign", target: mangled, source: null });
      }
      child.forEachChild(visit);
    };
    visit(left);
  }
}

// ---------------------------------------------------------------- calls

const PROMISE_METHODS = new Set(["then", "catch", "finally"]);
const EVENT_METHODS = new Set(["on", "once", "addListener", "prependListener", "prependOnceListener", "addEventListener", "subscribe"]);
const LISTENER_METHODS = new Set(["on", "once", "addListener", "prependListener", "prependOnceListener", "off", "removeListener"]);
const CONTAINER_METHODS = new Set(["push", "unshift", "add", "set", "append", "splice", "enqueue"]);
const TEARDOWN_HOOKS = new Set(["after", "afterEach", "afterAll", "teardown", "suiteTeardown"]);
const NOW_METHODS = new Set(["forEach", "map", "filter", "reduce", "some", "every", "find", "findIndex", "flatMap", "sort"]);

type Resolved = {
  model: CallModel | null;
  summary: FunctionSummary | null;
  /** The type whose resource facts a fresh result has. */
  resultType: string | null;
  receiver: Value | null;
  receiverNode: ts.Expression | null;
  method: string | null;
  calleeText: string;
  receiverType: string | null;
};

function lowerCall(ctx: Ctx, call: ts.CallExpression, awaited: boolean): Value {
  const callee = unwrapTypes(call.expression);
  const method = ts.isPropertyAccessExpression(callee) ? callee.name.text : null;
  // Promise chains: the callbacks run (or not) as the promise settles.
  if (method && PROMISE_METHODS.has(method) && ts.isPropertyAccessExpression(callee)) return lowerPromiseChain(ctx, call, callee, method);

  // Local functions (declared in this function or bound to a local const) run inline.
  if (ts.isIdentifier(callee)) {
    const mangled = lookup(ctx, callee.text);
    if (mangled) {
      const releaseRef = ctx.releaseFns.get(mangled);
      if (releaseRef) {
        for (const argument of call.arguments) lowerExpr(ctx, argument);
        emit(ctx, [{ kind: "release", ref: releaseRef, span: span(ctx, call), how: "done" }], call, false);
        return NONE;
      }
      if (ctx.resolvers.has(mangled)) {
        for (const argument of call.arguments) transfer(ctx, lowerExpr(ctx, argument), "returned", call);
        emit(ctx, [], call, false);
        return NONE;
      }
      const local = ctx.localFns.get(mangled);
      if (local && ctx.inlineDepth < 3 && !ts.isSourceFile(ctx.owner) && local !== ctx.owner) {
        const args = call.arguments.map((argument) => lowerExpr(ctx, argument));
        inlineFunction(ctx, local, "must-run", (params) => {
          params.forEach((param, i) => {
            const value = args[i] ?? NONE;
            bindValue(ctx, param, value, call);
          });
        });
        return NONE;
      }
    }
  }

  const resolved = resolveCallee(ctx, callee);
  const { model, summary } = resolved;
  const managed = model?.managedWithCallback && call.arguments.some((argument) => isFunctionLike(unwrapTypes(argument)));
  // Callback-style acquisition: `pool.connect((err, client, done) => ...)`.
  const lastArgument = call.arguments[call.arguments.length - 1];
  const callbackAcquire =
    model?.yieldsToCallback && lastArgument && isFunctionLike(unwrapTypes(lastArgument)) && resolved.resultType ? model.yieldsToCallback : null;

  // Arguments, in order.
  const argEffects: Effect[] = [];
  const argCount = call.arguments.length;
  const invokeMode = (index: number): "now" | "later" | "maybe" => {
    const declared = [...(model?.invokesArgs ?? []), ...(summary?.invokesParams ?? [])].find(
      (entry) => entry.index === index || entry.index + argCount === index,
    );
    if (declared) return declared.when;
    if (method && NOW_METHODS.has(method)) return "now";
    // A driver calls the callbacks given to its objects (`client.query(sql, cb)`, `cursor.read(n, cb)`).
    const receiverVar = resolved.receiver?.ref && "var" in resolved.receiver.ref ? resolved.receiver.ref.var : null;
    if (method && receiverVar && (ctx.derived.has(receiverVar) || isTrackedReceiver(ctx, resolved.receiver))) return "later";
    // Test frameworks run their teardown hooks.
    if (ts.isIdentifier(callee) && TEARDOWN_HOOKS.has(callee.text)) return "later";
    return "maybe";
  };
  call.arguments.forEach((argument, index) => {
    const inner = unwrapTypes(argument);
    if (callbackAcquire && argument === lastArgument && isFunctionLike(inner)) {
      lowerCallbackAcquisition(ctx, call, inner, resolved, callbackAcquire);
      return;
    }
    if (isFunctionLike(inner)) {
      const event = method !== null && EVENT_METHODS.has(method);
      let mode = event ? "maybe" : invokeMode(index);
      // Node's error-first convention: a last-argument callback taking `(err, ...)` is called
      // once, with the error or with the result (`collection.find(q).toArray((err, docs) => ...)`).
      if (mode === "maybe" && !event && index === argCount - 1 && isErrorFirstCallback(inner)) mode = "later";
      inlineFunction(ctx, inner, mode === "maybe" ? "may-run" : "must-run", null, mode !== "now");
      return;
    }
    // `client.on("drain", client.end.bind(client))`, `finished(stream, conn.release)`: a reference to a release method.
    const methodRef = releaseMethodReference(ctx, inner);
    if (methodRef) {
      const mode = method && EVENT_METHODS.has(method) ? "maybe" : invokeMode(index);
      flush(ctx, argument);
      ctx.b.callback(() => ctx.b.add([{ kind: "release", ref: methodRef, span: span(ctx, argument), how: "reference" }], span(ctx, argument)), mode === "maybe" ? "may-run" : "must-run");
      return;
    }
    const value = lowerExpr(ctx, argument);
    // A release function handed on (`stream.on("end", done)`) runs when the callee calls it.
    if (value.ref && "var" in value.ref && ctx.releaseFns.has(value.ref.var)) {
      const releaseRef = ctx.releaseFns.get(value.ref.var) as Ref;
      const mode = method && EVENT_METHODS.has(method) ? "maybe" : invokeMode(index);
      flush(ctx, argument);
      ctx.b.callback(() => ctx.b.add([{ kind: "release", ref: releaseRef, span: span(ctx, argument), how: "done" }], span(ctx, argument)), mode === "maybe" ? "may-run" : "must-run");
      return;
    }
    if (value.closure && value.ref) {
      const mode = method && EVENT_METHODS.has(method) ? "maybe" : invokeMode(index);
      inlineFunction(ctx, value.closure, mode === "maybe" ? "may-run" : "must-run", null, mode !== "now");
      return;
    }
    const refs = refsOf(value);
    if (refs.length === 0) return;
    const direct = value.ref !== null;
    const s = span(ctx, argument);
    const releases = direct && (model?.releasesArgs?.includes(index) || summary?.releasesParams.includes(index));
    const takes =
      direct &&
      (model?.takesArgs?.includes(index) ||
        summary?.takesParams.includes(index) ||
        (ts.isIdentifier(callee) && ctx.facts.closers.has(callee.text)) ||
        (method !== null && ctx.facts.closers.has(method)));
    const stored = method !== null && CONTAINER_METHODS.has(method) && !resolved.receiverType && !isTrackedReceiver(ctx, resolved.receiver);
    for (const ref of refs) {
      if (releases) argEffects.push({ kind: "release", ref, span: span(ctx, call), how: "helper" });
      else if (takes) argEffects.push({ kind: "transfer", ref, reason: "passed-owner", span: s });
      else if (stored) argEffects.push({ kind: "transfer", ref, reason: "stored-container", span: s });
      else argEffects.push({ kind: "use", ref, span: s });
    }
  });

  // Effects on the receiver.
  const receiverRef = resolved.receiver?.ref ?? null;
  const receiverEffects: Effect[] = [];
  let setup = model?.setup ?? false;
  if (method && resolved.receiver) {
    const receiverFacts = resolved.receiverType ? ctx.facts.registry.types.get(resolved.receiverType)?.resource : undefined;
    const isTracked = receiverRef !== null;
    const releaseNames: ReadonlySet<string> = receiverFacts ? new Set(receiverFacts.releaseMethods) : ctx.facts.releaseMethods;
    if (isTracked && (releaseNames.has(method) || model?.releasesReceiver) && !(receiverFacts === undefined && resolved.receiverType)) {
      receiverEffects.push({ kind: "release", ref: receiverRef, span: span(ctx, call), how: method });
    } else if (isTracked) {
      receiverEffects.push({ kind: "use", ref: receiverRef, span: span(ctx, call) });
    }
    if (model?.closes && receiverRef) {
      receiverEffects.push({ kind: "release", ref: onReceiver(receiverRef, model.closes), span: span(ctx, call), how: method });
      // A client a project helper returned already connected holds the connection itself.
      const closes = model.closes;
      if ("var" in receiverRef && ctx.sites.some((site) => site.bound === receiverRef.var && site.type === closes)) {
        receiverEffects.push({ kind: "release", ref: receiverRef, span: span(ctx, call), how: method });
      }
    }
    // A parent's release frees its children: `dataSource.destroy()` and its query runners.
    if (model?.releasesReceiver || (resolved.receiverType && method === "destroy")) {
      const path = receiverPath(resolved.receiverNode);
      for (const child of (path && ctx.children.get(path)) || []) receiverEffects.push({ kind: "release", ref: { temp: child }, span: span(ctx, call), how: method });
    }
    if (!resolved.receiverType && receiverRef && /^(connect|startTransaction)$/.test(method)) setup = true;
  }
  if (resolved.receiverNode && isConsole(resolved.receiverNode)) setup = true;
  // `client.on("error", handler)`: registering a listener on an EventEmitter only stores the
  // function; it cannot fail, so it opens no exception path before a release.
  if (method && LISTENER_METHODS.has(method) && call.arguments.length === 2 && ts.isStringLiteralLike(unwrapTypes(call.arguments[0]))) {
    const listener = unwrapTypes(call.arguments[1]);
    if (isFunctionLike(listener) || ts.isIdentifier(listener)) setup = true;
  }

  // The result.
  let result: Value = { ref: null, type: null, qualified: null };
  const resultFacts = resolved.resultType ? ctx.facts.registry.types.get(resolved.resultType)?.resource : undefined;
  const acquireEffects: Effect[] = [];
  const fresh = model ? model.fresh !== false : summary ? summary.returnsFresh !== null : false;
  const needsAwait = model ? model.awaited === true : summary ? summary.async : false;
  if (resolved.resultType && resultFacts && fresh && !managed && !callbackAcquire && ctx.expectFailure === 0) {
    if (needsAwait && !awaited) {
      result = {
        ref: null,
        type: null,
        qualified: null,
        promiseOf: { call, model: model ?? {}, type: resolved.resultType, receiver: resolved.receiver, calleeText: resolved.calleeText },
      };
    } else {
      const site = newSite(ctx, {
        node: call,
        type: resolved.resultType,
        facts: resultFacts,
        origin: "call",
        calleeText: resolved.calleeText,
        receiverText: resolved.receiverNode ? resolved.receiverNode.getText(ctx.facts.sourceFile) : null,
        declaration: null,
      });
      const bind = ctx.bindHint?.node === call ? ctx.bindHint.name : null;
      acquireEffects.push(resultFacts.holdsOnFirstUse ? { kind: "acquire", site, bind, lazy: true } : { kind: "acquire", site, bind });
      // A helper that returns a client with its connection open (`connect(); return client`):
      // the value is the client (its methods apply), and it holds the connection.
      const valueType = model ? resolved.resultType : (hostOfOpened(ctx.facts.registry, resolved.resultType) ?? resolved.resultType);
      result = { ref: { temp: site }, type: valueType, qualified: null, boundTo: bind ?? undefined };
      if (model?.childOfReceiver) {
        const path = receiverPath(resolved.receiverNode);
        if (path) ctx.children.set(path, [...(ctx.children.get(path) ?? []), site]);
      }
    }
  } else if (resolved.resultType) {
    // `pool.promise()`, `client.$extends(...)`: the same object under another face.
    const same = resolved.receiverType === resolved.resultType && model?.fresh === false && receiverRef !== null;
    result = { ref: same ? receiverRef : null, type: resolved.resultType, qualified: null };
  }
  // `queryRunner.startTransaction()`: a transaction that lives on the runner.
  if (model?.opens && receiverRef) {
    const openFacts = ctx.facts.registry.types.get(model.opens)?.resource;
    if (openFacts) {
      const site = newSite(ctx, {
        node: call,
        type: model.opens,
        facts: openFacts,
        origin: "opens",
        calleeText: resolved.calleeText,
        receiverText: resolved.receiverNode ? resolved.receiverNode.getText(ctx.facts.sourceFile) : null,
        declaration: null,
      });
      const onVar = onReceiver(receiverRef, model.opens).var;
      acquireEffects.push({ kind: "acquire", site, bind: onVar });
      if ("var" in receiverRef) {
        ctx.opened.set(receiverRef.var, [...(ctx.opened.get(receiverRef.var) ?? []), onVar]);
        // The client was already handed to someone else (`this.client = client`): its connection goes with it.
        if (ctx.escaped.has(receiverRef.var)) acquireEffects.push({ kind: "transfer", ref: { var: onVar }, reason: "stored-container", span: span(ctx, call) });
      }
      const info = siteInfo(ctx, site);
      if (info) {
        info.bound = onVar;
        // Opened on a field (`this.client.connect()`): the class is responsible.
        if ("var" in receiverRef && receiverRef.var.startsWith("this.")) info.field = onVar;
      }
    }
  }
  if (!result.type && !result.ref && method && (isTrackedReceiver(ctx, resolved.receiver) || (resolved.receiver?.ref && "var" in resolved.receiver.ref && ctx.derived.has(resolved.receiver.ref.var)))) {
    result = { ...result, derived: true };
  }
  // In a finally block only work on the resource itself can fail before its release.
  const onResource = isTrackedReceiver(ctx, resolved.receiver) || (resolved.receiver?.ref !== null && resolved.receiver?.ref !== undefined && "var" in resolved.receiver.ref && ctx.derived.has(resolved.receiver.ref.var));
  const mayThrow = !setup && (ctx.inFinally === 0 || onResource);
  emit(ctx, [...argEffects, ...receiverEffects, ...acquireEffects], call, mayThrow);
  if (!result.type && summary?.returnsType) result = { ...result, type: summary.returnsType };
  return result;
}

/** `function (err, result) { ... }`, `(error) => ...`: a Node-style callback whose first parameter is the error. */
function isErrorFirstCallback(fn: FunctionLike): boolean {
  const first = fn.parameters[0];
  return first !== undefined && ts.isIdentifier(first.name) && /^(err|error|er)$/i.test(first.name.text);
}

function releaseMethodReference(ctx: Ctx, node: ts.Expression): Ref | null {
  let target = node;
  if (ts.isCallExpression(target) && ts.isPropertyAccessExpression(target.expression) && target.expression.name.text === "bind") target = target.expression.expression;
  target = unwrapTypes(target);
  if (!ts.isPropertyAccessExpression(target)) return null;
  const ref = trackedRef(ctx, unwrapTypes(target.expression));
  if (!ref || !("var" in ref)) return null;
  const type = ctx.varTypes.get(ref.var);
  const facts = type ? ctx.facts.registry.types.get(type)?.resource : undefined;
  const names: ReadonlySet<string> = facts ? new Set(facts.releaseMethods) : ctx.facts.releaseMethods;
  if (!names.has(target.name.text)) return null;
  return ctx.sites.some((site) => site.bound === ref.var) ? ref : null;
}

/**
 * `let cli; open().then(async (pool) => { cli = await pool.connect(); ... }).catch(() => cli.release())`:
 * the variable belongs to an enclosing function that releases it too; it shares the ownership.
 */
function releasedByEnclosingScope(ctx: Ctx, name: string): boolean {
  if (ts.isSourceFile(ctx.owner)) return false;
  for (let scope: ts.Node | undefined = ctx.owner.parent; scope; scope = scope.parent) {
    if (!isFunctionLike(scope)) continue;
    const body = scope.body;
    if (!body) continue;
    let found = false;
    walk(body, (child) => {
      if (child === ctx.owner) return false;
      if (ts.isCallExpression(child) && ts.isPropertyAccessExpression(child.expression) && ctx.facts.releaseMethods.has(child.expression.name.text)) {
        const receiver = unwrapTypes(child.expression.expression);
        if (ts.isIdentifier(receiver) && receiver.text === name) found = true;
      }
      return !found;
    });
    if (found) return true;
  }
  return false;
}

const releasedNames = new WeakMap<ts.Node, Set<string>>();

/** Names this function calls a release method on (`x.release()`, `x.end()`), anywhere in its body. */
function releasedHere(ctx: Ctx, name: string): boolean {
  let names = releasedNames.get(ctx.owner);
  if (!names) {
    const found = new Set<string>();
    const body = ts.isSourceFile(ctx.owner) ? ctx.owner : isFunctionLike(ctx.owner) ? ctx.owner.body : undefined;
    if (body) {
      walk(body, (child) => {
        if (ts.isCallExpression(child) && ts.isPropertyAccessExpression(child.expression) && ctx.facts.releaseMethods.has(child.expression.name.text)) {
          const receiver = unwrapTypes(child.expression.expression);
          if (ts.isIdentifier(receiver)) found.add(receiver.text);
          if (ts.isPropertyAccessExpression(receiver) && receiver.expression.kind === ts.SyntaxKind.ThisKeyword) found.add(`this.${receiver.name.text}`);
        }
        return true;
      });
    }
    names = found;
    releasedNames.set(ctx.owner, names);
  }
  return names.has(name);
}

function isTrackedReceiver(ctx: Ctx, receiver: Value | null): boolean {
  if (!receiver?.ref || !("var" in receiver.ref)) return false;
  const name = receiver.ref.var;
  return ctx.sites.some((site) => site.bound === name);
}

function isConsole(node: ts.Expression): boolean {
  const inner = unwrapTypes(node);
  return ts.isIdentifier(inner) && (inner.text === "console" || inner.text === "logger" || inner.text === "log");
}

const hostsCache = new WeakMap<ModelRegistry, Map<string, string>>();

/**
 * The type whose method opens a resource of `type` on its receiver (`pg.Client` for the
 * connection `client.connect()` opens), or null. A function that returns such a resource
 * returns its host object.
 */
export function hostOfOpened(registry: ModelRegistry, type: string | null): string | null {
  if (!type) return null;
  let hosts = hostsCache.get(registry);
  if (!hosts) {
    hosts = new Map();
    for (const host of registry.types.values()) {
      for (const method of Object.values(host.methods ?? {})) if (method.opens && !hosts.has(method.opens)) hosts.set(method.opens, host.name);
    }
    hostsCache.set(registry, hosts);
  }
  return hosts.get(type) ?? null;
}

function onReceiver(ref: Ref, type: string): { var: string } {
  return { var: `${"var" in ref ? ref.var : `$temp${ref.temp}`}@${type}` };
}

function receiverPath(node: ts.Expression | null): string | null {
  if (!node) return null;
  const inner = unwrapTypes(node);
  if (ts.isIdentifier(inner)) return inner.text;
  if (inner.kind === ts.SyntaxKind.ThisKeyword) return "this";
  if (ts.isPropertyAccessExpression(inner)) {
    const left = receiverPath(inner.expression);
    return left ? `${left}.${inner.name.text}` : null;
  }
  return null;
}

function resolveCallee(ctx: Ctx, callee: ts.Expression): Resolved {
  const { facts } = ctx;
  const calleeText = calleeName(callee, facts.sourceFile);
  const base: Resolved = { model: null, summary: null, resultType: null, receiver: null, receiverNode: null, method: null, calleeText, receiverType: null };
  if (ts.isPropertyAccessExpression(callee) || (ts.isElementAccessExpression(callee) && ts.isStringLiteralLike(callee.argumentExpression))) {
    const method = ts.isPropertyAccessExpression(callee) ? callee.name.text : (callee.argumentExpression as ts.StringLiteralLike).text;
    const receiverNode = callee.expression;
    // `this.helper(x)`: a method of the enclosing class.
    if (receiverNode.kind === ts.SyntaxKind.ThisKeyword && ctx.classInfo) {
      const summary = facts.flow.summaries[`${facts.path}#${ctx.classInfo.name}.${method}`] ?? null;
      const resultType = summary?.returnsFresh ?? summary?.returnsType ?? null;
      if (resultType) return { ...base, summary, resultType, method, receiverNode, receiver: { ref: null, type: null, qualified: "this" } };
      // A class of the library's own kind (`this.createQueryRunner()` inside a driver).
      const conventional = conventionType(ctx, method, receiverNode);
      const model = conventional ? (facts.registry.types.get(conventional)?.methods?.[method] ?? null) : null;
      return { ...base, summary, model, resultType: model?.returns ?? null, method, receiverNode, receiverType: conventional, receiver: { ref: null, type: null, qualified: "this" } };
    }
    const receiver = lowerExpr(ctx, receiverNode);
    if (ts.isElementAccessExpression(callee)) lowerExpr(ctx, callee.argumentExpression);
    // A namespace or package: `pg.connect`, `db.getClient()` from `import * as db`.
    if (receiver.qualified && receiver.qualified !== "this") {
      const q = receiver.qualified;
      const qualified = q.endsWith("#*") || q.endsWith("#default") ? `${q.replace(/#(\*|default)$/, "")}#${method}` : q.includes("#") ? null : `${q}.${method}`;
      if (qualified) {
        const exported = exportOf(facts, qualified);
        const summary = facts.flow.summaries[qualified] ?? null;
        if (exported?.call || summary) {
          return { ...base, model: exported?.call ?? null, summary, resultType: exported?.call?.returns ?? summary?.returnsFresh ?? summary?.returnsType ?? null, receiver: null, receiverNode, method };
        }
      }
    }
    let receiverType = receiver.type;
    if (!receiverType) receiverType = conventionType(ctx, method, receiverNode);
    const model = receiverType ? (facts.registry.types.get(receiverType)?.methods?.[method] ?? null) : null;
    return { ...base, model, resultType: model?.returns ?? null, receiver, receiverNode, method, receiverType };
  }
  if (ts.isIdentifier(callee)) {
    const value = identifierValue(ctx, callee);
    const qualified = value.qualified;
    if (qualified) {
      const exported = exportOf(facts, qualified);
      const summary = facts.flow.summaries[qualified] ?? null;
      return { ...base, model: exported?.call ?? null, summary, resultType: exported?.call?.returns ?? summary?.returnsFresh ?? summary?.returnsType ?? null };
    }
    return base;
  }
  lowerExpr(ctx, callee);
  return base;
}

function calleeName(callee: ts.Expression, sourceFile: ts.SourceFile): string {
  if (ts.isPropertyAccessExpression(callee)) return `${callee.expression.getText(sourceFile)}.${callee.name.text}`;
  return callee.getText(sourceFile);
}

/** The library a receiver of unknown origin belongs to, by naming convention (`this.pool`, `db.pool`). */
function conventionType(ctx: Ctx, method: string, receiverNode: ts.Expression): string | null {
  const path = receiverPath(receiverNode) ?? "";
  const last = (path.split(".").pop() ?? "").replace(/\(\)$/, "");
  const inner = unwrapTypes(receiverNode);
  const promised = ts.isCallExpression(inner) ? receiverPath(inner.expression) : null;
  // pool.promise().getConnection(): the pool's promise wrapper; `db.getPool().connect()`: a
  // getter without arguments named for what it returns.
  const getter = promised && ts.isCallExpression(inner) && inner.arguments.length === 0 && !promised.endsWith(".promise") ? (promised.split(".").pop() ?? "") : null;
  const name = promised?.endsWith(".promise") ? (promised.split(".").slice(-2, -1)[0] ?? "") : getter ? getter.replace(/^get(?=[A-Z_])/, "") : last;
  for (const convention of ctx.facts.conventions) {
    if (!convention.method || convention.method !== method) continue;
    if (convention.receiver && !new RegExp(convention.receiver, "i").test(name)) continue;
    if (convention.receiver && !path && !promised) continue;
    return convention.type;
  }
  return null;
}

function lowerNew(ctx: Ctx, e: ts.NewExpression): Value {
  const callee = unwrapTypes(e.expression);
  const { facts } = ctx;
  // `new Promise((resolve, reject) => ...)`: the executor runs now; resolve hands a value to the awaiting caller.
  if (ts.isIdentifier(callee) && callee.text === "Promise" && e.arguments?.[0] && isFunctionLike(unwrapTypes(e.arguments[0]))) {
    const executor = unwrapTypes(e.arguments[0]) as FunctionLike;
    inlineFunction(ctx, executor, "must-run", (params) => {
      if (params[0]) ctx.resolvers.add(params[0]);
    });
    return NONE;
  }
  const value = lowerExpr(ctx, callee);
  let qualified = value.qualified;
  let construct = qualified ? (exportOf(facts, qualified)?.construct ?? classConstruct(facts, qualified) ?? undefined) : undefined;
  const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : "";
  if (!construct) {
    for (const convention of facts.conventions) {
      if (convention.construct && new RegExp(convention.construct).test(name)) {
        construct = { returns: convention.type, fresh: true };
        qualified = convention.type;
        break;
      }
    }
  }
  const argValues = (e.arguments ?? []).map((argument) => {
    const inner = unwrapTypes(argument);
    if (isFunctionLike(inner)) {
      inlineFunction(ctx, inner, "may-run", null, true);
      return NONE;
    }
    return lowerExpr(ctx, argument);
  });
  const effects: Effect[] = [];
  // Wrapped by a new object that outlives the call: it may own the resource now. One that
  // lives only inside the call (`const repo = new Repo(client); return repo.list()`) does not.
  const local = argValues.some((argument) => refsOf(argument).length > 0) && isLocalHolder(e);
  // Building a local holder is no first use of a lazy resource (a query runner connects on its first query).
  if (!local) for (const argument of argValues) for (const ref of refsOf(argument)) effects.push({ kind: "transfer", ref, reason: "passed-unknown-owner", span: span(ctx, e) });
  const type = construct?.returns ?? null;
  const resource = type ? facts.registry.types.get(type)?.resource : undefined;
  if (type && resource && construct?.fresh !== false && !ctx.moduleLevel) {
    const site = newSite(ctx, { node: e, type, facts: resource, origin: "new", calleeText: name, receiverText: null, declaration: null });
    const bind = ctx.bindHint?.node === e ? ctx.bindHint.name : null;
    effects.push({ kind: "acquire", site, bind });
    emit(ctx, effects, e, true);
    return { ref: { temp: site }, type, qualified: null, boundTo: bind ?? undefined };
  }
  emit(ctx, effects, e, !builtinCannotThrow(ctx, callee, e));
  return { ref: null, type, qualified: null };
}

/** Methods that hand an object's work to something that outlives the call. */
const BACKGROUND_METHODS = /^(start|listen|serve|schedule|subscribe|on|once|addListener|addEventListener|register|spawn|run|runInBackground|setInterval|setTimeout)$/;

/**
 * `const repo = new Repo(client)` where `repo` is only ever asked to do things in this
 * function (`repo.list()`): never returned, stored, passed on, captured by a closure or
 * started as background work. The object dies with the call.
 */
function isLocalHolder(e: ts.NewExpression): boolean {
  let outer: ts.Node = e;
  while (ts.isParenthesizedExpression(outer.parent)) outer = outer.parent;
  const declaration = outer.parent;
  if (!ts.isVariableDeclaration(declaration) || declaration.initializer !== outer || !ts.isIdentifier(declaration.name)) return false;
  if (!(declaration.parent.flags & ts.NodeFlags.Const)) return false;
  const name = declaration.name.text;
  let fn: ts.Node | undefined = declaration.parent;
  while (fn && !isFunctionLike(fn)) fn = fn.parent;
  if (!fn) return false;
  let local = true;
  const visit = (node: ts.Node, nested: boolean): void => {
    if (!local) return;
    if (ts.isIdentifier(node) && node.text === name && node !== declaration.name) {
      const parent = node.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.name === node) return;
      if (ts.isPropertyAssignment(parent) && parent.name === node) return;
      const method = ts.isPropertyAccessExpression(parent) && parent.expression === node ? parent.name.text : null;
      const invoked = method !== null && ts.isCallExpression(parent.parent) && parent.parent.expression === parent;
      if (nested || !invoked || BACKGROUND_METHODS.test(method)) local = false;
      return;
    }
    ts.forEachChild(node, (child) => visit(child, nested || (isFunctionLike(child) && child !== fn)));
  };
  visit(fn, false);
  return local;
}

// `new Map()`, `new Date(x)`, `new Error(message)`: the built-ins (not shadowed by a local or
// module name) that cannot throw, so they open no exception path before a release.
const EMPTY_BUILTINS = new Set(["Map", "Set", "WeakMap", "WeakSet", "Object", "Array"]);
const TOTAL_BUILTINS = new Set(["Date", "Error", "TypeError", "RangeError"]);

function builtinCannotThrow(ctx: Ctx, callee: ts.Expression, e: ts.NewExpression): boolean {
  if (!ts.isIdentifier(callee) || lookup(ctx, callee.text) || ctx.facts.moduleNames.has(callee.text)) return false;
  if (TOTAL_BUILTINS.has(callee.text)) return true;
  return EMPTY_BUILTINS.has(callee.text) && (e.arguments?.length ?? 0) === 0;
}

/** `.then(onFulfilled, onRejected)`, `.catch(fn)`, `.finally(fn)`. */
function lowerPromiseChain(ctx: Ctx, call: ts.CallExpression, callee: ts.PropertyAccessExpression, method: string): Value {
  // A failure of the promise's own work is a rejection that flows down the chain (to this
  // `.catch`/`.finally`), not an exception thrown here.
  ctx.noThrow++;
  let receiver: Value;
  try {
    receiver = lowerExpr(ctx, callee.expression);
  } finally {
    ctx.noThrow--;
  }
  const [first, second] = call.arguments.map((argument) => unwrapTypes(argument));
  const asFunction = (node: ts.Expression | undefined): FunctionLike | null => {
    if (!node) return null;
    if (isFunctionLike(node)) return node;
    if (ts.isIdentifier(node)) {
      const mangled = lookup(ctx, node.text);
      if (mangled && ctx.releaseFns.has(mangled)) return null;
      return (mangled && ctx.localFns.get(mangled)) || null;
    }
    return null;
  };
  const releaseArg = (node: ts.Expression | undefined): Ref | null => {
    if (!node || !ts.isIdentifier(node)) return null;
    const mangled = lookup(ctx, node.text);
    return mangled ? (ctx.releaseFns.get(mangled) ?? null) : null;
  };
  flush(ctx, callee.expression);
  if (method === "then") {
    const onFulfilled = asFunction(first);
    const onRejected = asFunction(second);
    // `pool.connect().then((client) => ...)`: the resource exists only once the promise fulfils.
    const promised = receiver.promiseOf;
    // `this.startSession().then((session) => ...)` where the call resolved to a synchronous
    // factory: a `.then` says it returned a promise, so the callback receives the resource.
    const thenable =
      !promised && receiver.ref && "temp" in receiver.ref && receiver.type && ctx.facts.registry.types.get(receiver.type)?.resource ? receiver.ref : null;
    ctx.b.alternatives(
      [
        () => {
          if (onFulfilled) {
            inlineFunction(ctx, onFulfilled, "must-run", (params) => {
              if (thenable && "temp" in thenable && params[0]) {
                ctx.trackedVars.add(params[0]);
                ctx.b.add([{ kind: "assign", target: params[0], source: thenable }], span(ctx, call));
                if (receiver.type) ctx.varTypes.set(params[0], receiver.type);
                const info = siteInfo(ctx, thenable.temp);
                if (info && info.bound === null) info.bound = params[0];
              }
              if (promised && params[0]) {
                const facts = ctx.facts.registry.types.get(promised.type)?.resource;
                if (facts) {
                  const site = newSite(ctx, {
                    node: promised.call,
                    type: promised.type,
                    facts,
                    origin: "then",
                    calleeText: promised.calleeText,
                    receiverText: null,
                    declaration: null,
                  });
                  ctx.b.add([{ kind: "acquire", site, bind: params[0] }], span(ctx, promised.call));
                  ctx.varTypes.set(params[0], hostOfOpened(ctx.facts.registry, promised.type) ?? promised.type);
                  const info = siteInfo(ctx, site);
                  if (info) info.bound = params[0];
                }
              }
            }, false);
          } else if (first) use(ctx, lowerExpr(ctx, first), first);
        },
        () => {
          // Rejected: the promise never gave a resource.
          if (thenable) ctx.b.add([{ kind: "absent", ref: thenable }], null);
          if (onRejected) inlineFunction(ctx, onRejected, "must-run", null, false);
        },
      ],
      false,
    );
    return NONE;
  }
  const fn = asFunction(first);
  const release = releaseArg(first);
  const mode = method === "finally" ? "must-run" : "may-run";
  if (fn) inlineFunction(ctx, fn, mode, null, true);
  else if (release) ctx.b.callback(() => ctx.b.add([{ kind: "release", ref: release, span: span(ctx, call), how: "done" }], span(ctx, call)), mode);
  else if (first) use(ctx, lowerExpr(ctx, first), first);
  use(ctx, receiver, call);
  flush(ctx, call);
  return NONE;
}

/** `pool.connect((err, client, done) => { ... })`: inside the callback the client is fresh on the success path. */
function lowerCallbackAcquisition(ctx: Ctx, call: ts.CallExpression, callback: FunctionLike, resolved: Resolved, shape: { param: number; releaseParam?: number }): void {
  const type = resolved.resultType as string;
  const resource = ctx.facts.registry.types.get(type)?.resource;
  const clientParam = callback.parameters[shape.param];
  const errorParam = callback.parameters[0];
  const releaseParam = shape.releaseParam !== undefined ? callback.parameters[shape.releaseParam] : undefined;
  const clientName = clientParam && ts.isIdentifier(clientParam.name) ? clientParam.name.text : null;
  const releaseName = releaseParam && ts.isIdentifier(releaseParam.name) ? releaseParam.name.text : null;
  // A callback that never touches the client (no method call, no release) expects the checkout to fail.
  const touches = clientName !== null && callback.body !== undefined && usesAsObject(callback.body, clientName);
  const callsRelease = releaseName !== null && callback.body !== undefined && callsOrHandsOn(callback.body, releaseName);
  inlineFunction(
    ctx,
    callback,
    "must-run",
    (params) => {
      if (!resource || !clientName || (!touches && !callsRelease)) return;
      const clientVar = params[shape.param];
      const site = newSite(ctx, {
        node: call,
        type,
        facts: resource,
        origin: "callback",
        calleeText: resolved.calleeText,
        receiverText: resolved.receiverNode ? resolved.receiverNode.getText(ctx.facts.sourceFile) : null,
        declaration: null,
      });
      const info = siteInfo(ctx, site);
      if (info) info.bound = clientVar;
      ctx.varTypes.set(clientVar, type);
      ctx.b.add([{ kind: "acquire", site, bind: clientVar }], span(ctx, call));
      if (releaseName && params[shape.releaseParam as number]) ctx.releaseFns.set(params[shape.releaseParam as number], { var: clientVar });
      if (errorParam && ts.isIdentifier(errorParam.name) && params[0]) ctx.errorVars.set(params[0], { var: clientVar });
    },
    true,
  );
}

function usesAsObject(body: ts.Node, name: string): boolean {
  let found = false;
  walk(body, (child) => {
    if (ts.isIdentifier(child) && child.text === name) {
      const parent = child.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.expression === child) found = true;
      if (ts.isReturnStatement(parent) || ts.isShorthandPropertyAssignment(parent)) found = true;
    }
    return !found;
  });
  return found;
}

/** `done()`, `stream.on("end", done)`, `.finally(done)`: the release function is used as one (not just asserted on). */
function callsOrHandsOn(body: ts.Node, name: string): boolean {
  let found = false;
  walk(body, (child) => {
    if (ts.isIdentifier(child) && child.text === name) {
      const parent = child.parent;
      if (ts.isCallExpression(parent) && parent.expression === child) found = true;
      if (ts.isCallExpression(parent) && parent.arguments.includes(child) && ts.isPropertyAccessExpression(parent.expression)) {
        if (/^(on|once|addListener|finally|then|catch)$/.test(parent.expression.name.text)) found = true;
      }
    }
    return !found;
  });
  return found;
}


/**
 * A nested function body lowered in place. `return` inside it ends the callback, not the
 * outer function (a one-shot loop gives it a target). `deferred`: it runs after the call
 * returns (a driver callback, an event, a promise reaction): its failures are reported to
 * its caller, not thrown into ours.
 */
/**
 * Functions being inlined right now. A function is not inlined into itself: a listener that
 * removes itself (`const cleanup = () => { res.off("error", cleanup); ... }`) or closures that
 * register each other were copied at every reference down to the depth limit (k^8 copies).
 * Its effects are already in the graph once.
 */
const inlining = new Set<FunctionLike>();

function inlineFunction(
  ctx: Ctx,
  fn: FunctionLike,
  mode: "must-run" | "may-run",
  bindParams: ((params: string[]) => void) | null,
  deferred = false,
): void {
  flush(ctx, fn);
  if (ctx.inlineDepth > 8 || inlining.has(fn)) return;
  const label = `F${++ctx.labelCounter.value}`;
  const savedOwnerAsync = ctx.async;
  ctx.b.callback(() => {
    withScope(ctx, () => {
      const params: string[] = [];
      for (const parameter of fn.parameters) {
        const names = boundNames(parameter.name);
        for (const name of names) params.push(declare(ctx, name));
      }
      for (const param of params) ctx.pending.push({ kind: "assign", target: param, source: null });
      flush(ctx, fn);
      if (bindParams) bindParams(params);
      ctx.loops.push({ label, userLabel: null, isSwitch: false });
      ctx.inlineDepth++;
      ctx.inlined++;
      if (deferred) ctx.noThrow++;
      ctx.async = isAsync(fn);
      const savedLoops = ctx.loops.length;
      inlining.add(fn);
      try {
        const body = () => {
          if (fn.body && ts.isBlock(fn.body)) lowerStatements(ctx, fn.body.statements);
          else if (fn.body) {
            lowerExpr(ctx, fn.body as ts.Expression);
            flush(ctx, fn.body);
          }
        };
        ctx.b.loop(
          null,
          () => {
            // A deferred callback (`.catch(err => { ...; throw err })`) runs after this function
            // has moved on: what it throws rejects a promise (the chain's next `.finally` still
            // runs); it does not leave this function through an exception.
            if (deferred) ctx.b.try({ body, handlers: [{ catchesAll: true, body: () => {} }] });
            else body();
            ctx.b.jump("break", label);
          },
          { label, infinite: true },
        );
      } finally {
        inlining.delete(fn);
        ctx.loops.length = savedLoops - 1;
        ctx.inlineDepth--;
        ctx.inlined--;
        if (deferred) ctx.noThrow--;
        ctx.async = savedOwnerAsync;
      }
    });
  }, mode);
}

// ---------------------------------------------------------------- types

/**
 * A model export by its qualified name. Project functions are also found by the module
 * name users write in `resources:` ("lib/db#openClient" for lib/db.ts or lib/db/index.ts),
 * packages also as "pkg#name".
 */
export function exportOf(facts: Pick<FileFacts, "registry">, qualified: string) {
  const direct = facts.registry.exports.get(qualified);
  if (direct) return direct;
  const hash = qualified.indexOf("#");
  if (hash >= 0) {
    const module = qualified.slice(0, hash).replace(/(\.d)?\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/, "").replace(/\/index$/, "");
    return facts.registry.exports.get(`${module}#${qualified.slice(hash + 1)}`);
  }
  const dot = qualified.lastIndexOf(".");
  return dot > 0 ? facts.registry.exports.get(`${qualified.slice(0, dot)}#${qualified.slice(dot + 1)}`) : undefined;
}

/**
 * The library constructor a project class inherits (`class Db extends PrismaClient`,
 * `class AppPool extends pg.Pool`, through project base classes): `new Db()` builds
 * what `new PrismaClient()` builds. Null for classes that extend nothing the models know.
 */
export function classConstruct(facts: Pick<FileFacts, "registry" | "flow">, qualified: string): CallModel | null {
  let key: string | null = qualified;
  for (let depth = 0; key && depth < 6; depth++) {
    const base: ClassBase | undefined = facts.flow.classBases?.[key];
    if (!base) return null;
    const exported = base.qualified ? exportOf(facts, base.qualified) : undefined;
    if (exported?.construct) return exported.construct;
    if (base.qualified?.includes("#") && facts.flow.classBases?.[base.qualified]) {
      key = base.qualified;
      continue;
    }
    for (const library of facts.registry.libraries) {
      for (const convention of library.conventions ?? []) {
        if (convention.construct && new RegExp(convention.construct).test(base.name)) return { returns: convention.type, fresh: true };
      }
    }
    return null;
  }
  return null;
}

export function typeOfQualified(facts: FileFacts, qualified: string): string | null {
  const exported = exportOf(facts, qualified);
  if (exported?.type) return exported.type;
  if (facts.registry.types.has(qualified)) return qualified;
  return facts.flow.exportTypes[qualified] ?? null;
}

/** `pool: Pool`, `client: import("pg").PoolClient`, `runner: QueryRunner`. */
export function typeOfAnnotation(facts: FileFacts, type: ts.TypeNode | undefined): string | null {
  if (!type) return null;
  if (ts.isTypeReferenceNode(type)) {
    const name = type.typeName;
    let qualified: string | null = null;
    if (ts.isIdentifier(name)) qualified = facts.imports.get(name.text) ?? null;
    else if (ts.isIdentifier(name.left)) {
      const ns = facts.imports.get(name.left.text);
      qualified = ns ? `${ns}.${name.right.text}` : null;
    }
    if (!qualified) return null;
    if (facts.registry.types.has(qualified)) return qualified;
    const construct = facts.registry.exports.get(qualified)?.construct?.returns;
    return construct ?? null;
  }
  if (ts.isImportTypeNode(type) && type.qualifier && ts.isLiteralTypeNode(type.argument) && ts.isStringLiteral(type.argument.literal)) {
    const qualified = `${type.argument.literal.text}.${type.qualifier.getText()}`;
    if (facts.registry.types.has(qualified)) return qualified;
    return facts.registry.exports.get(qualified)?.construct?.returns ?? null;
  }
  return null;
}
