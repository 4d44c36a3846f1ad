import { ts } from "ts-morph";
import { enclosingFunction, type FunctionLike, isFunctionLike, lineOf, referencesTo, unwrapTypes, walk } from "./ast.ts";

// Path analysis shared by the "acquire, then release on every path" rules
// (pool clients, query runners, mongoose sessions, transactions).
//
// The analysis is structural, not a full control-flow graph: it walks the statements
// that follow an acquisition in its block and tracks, per path, whether the resource
// has been released. It understands `finally`, `using`, if/else, switch, try/catch,
// early `return`/`throw`, and it knows when ownership leaves the function (returned,
// stored on an object, handed to an owner, released from a callback). When it is not
// sure it stays quiet: a false alarm costs more trust than a missed leak.

export interface ReleaseSpec {
  /** `x.release()`: methods called on the resource that end it. */
  methods: ReadonlySet<string>;
  /** `pool.release(x)`: methods on another object that take the resource as argument. */
  argumentMethods: ReadonlySet<string>;
  /**
   * Helpers named for what they do (`releaseClient(client)`, `commitTrans(trx)`,
   * `db.commitTransaction(session)`): a call whose function name matches, with the
   * resource as an argument, counts as the release. Teams wrap the library's calls.
   */
  helperPattern: RegExp;
  /** Methods on the resource that are harmless between acquisition and the protecting `try`. */
  setupMethods: ReadonlySet<string>;
  /** Plain functions that take ownership when given the resource (config `sessions.closers`). */
  closers: ReadonlySet<string>;
}

export type Problem =
  | { kind: "never" }
  | { kind: "exception"; line: number }
  /** `inCallback`: the path runs inside a result callback (no try/finally fix can help). */
  | { kind: "path"; line: number; how: "return" | "throw" | "end"; inCallback?: boolean }
  | { kind: "rejection" };

/** Callables that take ownership of what they are given (no finding once it is passed). */
const OWNERSHIP_CALLEES = new Set([
  "resolve",
  "ok",
  "fulfill",
  "accept",
  "register",
  "release",
  "track",
  "adopt",
  "callback",
  "cb",
  "done",
  "next",
  "push",
  "add",
  "set",
  "unshift",
  "emit",
  "assign",
]);

export function isUsingDeclaration(declaration: ts.VariableDeclaration): boolean {
  const list = declaration.parent;
  if (!ts.isVariableDeclarationList(list)) return false;
  // NodeFlags.Using = 4, AwaitUsing = 6 (Using | Const); test the Using bit.
  return (list.flags & ts.NodeFlags.Using) !== 0;
}

/** True when `node` (not inside a nested function) is a call that releases `name`. */
export function isReleaseCall(node: ts.Node, name: string, spec: ReleaseSpec): boolean {
  if (!ts.isCallExpression(node)) return false;
  const callee = unwrapTypes(node.expression);
  if (ts.isPropertyAccessExpression(callee)) {
    const receiver = unwrapTypes(callee.expression);
    const method = callee.name.text;
    if (ts.isIdentifier(receiver) && receiver.text === name && spec.methods.has(method)) return true;
    const passesResource = node.arguments.some((argument) => isName(argument, name));
    if (passesResource && (spec.argumentMethods.has(method) || spec.closers.has(method) || spec.helperPattern.test(method))) {
      return true;
    }
  }
  if (ts.isIdentifier(callee)) {
    if (callee.text === name && node.arguments.length <= 1) return spec.methods.has("()");
    const passesResource = node.arguments.some((argument) => isName(argument, name));
    if (passesResource && (spec.closers.has(callee.text) || spec.helperPattern.test(callee.text))) return true;
  }
  return false;
}

function isName(node: ts.Expression, name: string): boolean {
  const inner = unwrapTypes(node);
  return ts.isIdentifier(inner) && inner.text === name;
}

/** Does `node` release `name` directly (not from a nested function)? */
function containsRelease(node: ts.Node, name: string, spec: ReleaseSpec): boolean {
  if (isReleaseCall(node, name, spec)) return true;
  let found = false;
  walk(node, (child) => {
    if (found || isFunctionLike(child)) return false;
    if (isReleaseCall(child, name, spec)) found = true;
    return !found;
  });
  return found;
}

/** Could evaluating `node` throw? Calls, `await`, `new` can; setup calls on the resource are trusted. */
function mayThrow(node: ts.Node, name: string, spec: ReleaseSpec): boolean {
  let result = false;
  const check = (child: ts.Node): boolean => {
    if (result) return false;
    if (isFunctionLike(child) || ts.isClassDeclaration(child)) return false;
    if (ts.isCallExpression(child)) {
      if (isReleaseCall(child, name, spec)) return false;
      if (!isTrustedCall(child, name, spec)) result = true;
    } else if (ts.isAwaitExpression(child)) {
      const inner = unwrapTypes(child.expression);
      if (!(ts.isCallExpression(inner) && (isTrustedCall(inner, name, spec) || isReleaseCall(inner, name, spec)))) result = true;
    } else if (ts.isNewExpression(child) || ts.isThrowStatement(child)) {
      result = true;
    }
    return !result;
  };
  if (check(node)) walk(node, check);
  return result;
}

function isTrustedCall(call: ts.CallExpression, name: string, spec: ReleaseSpec): boolean {
  const callee = unwrapTypes(call.expression);
  if (!ts.isPropertyAccessExpression(callee)) return false;
  const receiver = unwrapTypes(callee.expression);
  if (!ts.isIdentifier(receiver)) return false;
  if (receiver.text === name && spec.setupMethods.has(callee.name.text)) return true;
  // Logging does not throw in practice; flagging it would only add noise.
  return receiver.text === "console";
}

/**
 * Does ownership of `name` leave `owner` (returned, stored, handed off, released from a
 * callback)? Then the function is not responsible for releasing it.
 */
export function ownershipMoves(owner: ts.Node, name: string, spec: ReleaseSpec): boolean {
  for (const reference of referencesTo(owner, name)) {
    if (referenceMovesOwnership(reference, name, spec, owner)) return true;
  }
  return false;
}

function referenceMovesOwnership(reference: ts.Identifier, name: string, spec: ReleaseSpec, owner: ts.Node): boolean {
  const parent = skipWrappers(reference);
  const context = parent.parent;
  if (!context) return false;
  // A release inside a nested function (event handler, promise callback) is a deferred
  // release we cannot order against the rest; trust it.
  const fn = enclosingFunction(reference);
  if (fn && fn !== owner && isInside(fn, owner)) {
    const releaseCall = releaseCallAround(reference, name, spec);
    if (releaseCall) return true;
  }
  if (ts.isExportSpecifier(context) || ts.isExportAssignment(context)) return true;
  return valueEscapes(parent, name, spec);
}

/**
 * Does the value at `node` leave the function: returned, yielded, stored, aliased, or
 * passed to an owner? An object or array literal holding it escapes when the literal
 * does (`return { client }` moves it; `Order.create(docs, { session })` does not).
 */
function valueEscapes(node: ts.Node, name: string, spec: ReleaseSpec): boolean {
  const context = node.parent;
  if (!context) return false;
  if (ts.isReturnStatement(context) || ts.isYieldExpression(context)) return true;
  if (ts.isArrowFunction(context) && context.body === node) return true;
  if (ts.isShorthandPropertyAssignment(context) || (ts.isPropertyAssignment(context) && context.initializer === node)) {
    return valueEscapes(skipWrappers(context.parent), name, spec);
  }
  if (ts.isArrayLiteralExpression(context) || ts.isSpreadElement(context)) return valueEscapes(skipWrappers(context), name, spec);
  if (ts.isBinaryExpression(context) && context.operatorToken.kind === ts.SyntaxKind.EqualsToken && context.right === node) {
    return true; // stored somewhere else (this.client = client, alias = client)
  }
  if (ts.isVariableDeclaration(context) && context.initializer === node) return true; // aliased
  if (ts.isCallExpression(context) && context.arguments.includes(node as ts.Expression)) {
    const callee = unwrapTypes(context.expression);
    const calleeName = ts.isIdentifier(callee)
      ? callee.text
      : ts.isPropertyAccessExpression(callee)
        ? callee.name.text
        : "";
    // A configured closer owns what it is given, as in the Python rules.
    if (spec.closers.has(calleeName)) return true;
    if (isReleaseCall(context, name, spec)) return false;
    if (OWNERSHIP_CALLEES.has(calleeName)) return true;
    // `ok(this.prepare(connection))`: wrapped, then handed to an owner.
    return flowsIntoOwner(context, spec);
  }
  if (ts.isNewExpression(context) && context.arguments?.includes(node as ts.Expression)) return true; // wrapped by an owner object
  return false;
}

function flowsIntoOwner(call: ts.CallExpression, spec: ReleaseSpec): boolean {
  const outer = skipWrappers(ts.isAwaitExpression(call.parent) ? call.parent : call);
  const context = outer.parent;
  if (!context || !ts.isCallExpression(context) || !context.arguments.includes(outer as ts.Expression)) return false;
  const callee = unwrapTypes(context.expression);
  const calleeName = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : "";
  return OWNERSHIP_CALLEES.has(calleeName) || spec.closers.has(calleeName);
}

function skipWrappers(node: ts.Node): ts.Node {
  let current = node;
  while (
    current.parent &&
    (ts.isParenthesizedExpression(current.parent) ||
      ts.isAsExpression(current.parent) ||
      ts.isNonNullExpression(current.parent) ||
      ts.isSatisfiesExpression(current.parent) ||
      ts.isTypeAssertionExpression(current.parent))
  ) {
    current = current.parent;
  }
  return current;
}

function releaseCallAround(reference: ts.Identifier, name: string, spec: ReleaseSpec): ts.CallExpression | null {
  let current: ts.Node = reference;
  for (let depth = 0; depth < 4 && current.parent; depth++) {
    current = current.parent;
    if (ts.isCallExpression(current) && isReleaseCall(current, name, spec)) return current;
  }
  return null;
}

function isInside(node: ts.Node, container: ts.Node): boolean {
  let current: ts.Node | undefined = node;
  while (current) {
    if (current === container) return true;
    current = current.parent;
  }
  return false;
}

/** Is `name` released anywhere in `owner`, including nested functions? */
export function releasedAnywhere(owner: ts.Node, name: string, spec: ReleaseSpec): boolean {
  let found = false;
  walk(owner, (child) => {
    if (found) return false;
    if (isReleaseCall(child, name, spec)) found = true;
    return !found;
  });
  return found;
}

/**
 * Where do the releases that sit in nested functions live? A release only inside
 * `.then(onFulfilled)` callbacks, with none in `.catch`, `.finally` or `.then(_, onRejected)`,
 * misses the rejected path.
 */
function onlyReleasedOnFulfilment(owner: ts.Node, name: string, spec: ReleaseSpec): boolean {
  let fulfilment = 0;
  let other = 0;
  walk(owner, (child) => {
    if (!isReleaseCall(child, name, spec)) return true;
    const fn = enclosingFunction(child);
    if (!fn || fn === owner) {
      other++;
      return true;
    }
    const call = fn.parent;
    if (ts.isCallExpression(call) && ts.isPropertyAccessExpression(call.expression)) {
      const method = call.expression.name.text;
      if (method === "then" && call.arguments[0] === fn) {
        fulfilment++;
        return true;
      }
    }
    other++;
    return true;
  });
  return fulfilment > 0 && other === 0;
}

interface Walk {
  name: string;
  spec: ReleaseSpec;
  problems: Problem[];
  /** Callback style: exceptions are not tracked; `if (err)` branches need no release. */
  callbackStyle: boolean;
  errorName: string | null;
}

interface Guard {
  /** An enclosing `finally` (inside the analysed region) releases. */
  finallyReleases: boolean;
  /** An enclosing `try` has a `catch` that will see exceptions. */
  caught: boolean;
  /**
   * Inside a `catch` block: calls that might throw before the release there
   * (`await session.abortTransaction(); session.endSession()`) are not reported; the
   * error path already releases, and a failure while handling a failure is not the bug
   * this rule is about. A rethrow without release still is.
   */
  inCatch?: boolean;
}

interface Flow {
  completes: boolean;
  released: boolean;
}

/** Analyse `statements` (from the one after the acquisition) until the end of the block. */
function runSequence(statements: readonly ts.Statement[], released: boolean, guard: Guard, state: Walk): Flow {
  let current = released;
  for (const statement of statements) {
    if (current) return { completes: true, released: true };
    const flow = runStatement(statement, current, guard, state);
    if (!flow.completes) return { completes: false, released: flow.released };
    current = flow.released;
  }
  return { completes: true, released: current };
}

function noteException(node: ts.Node, guard: Guard, state: Walk): void {
  if (state.callbackStyle || guard.finallyReleases || guard.caught || guard.inCatch) return;
  if (mayThrow(node, state.name, state.spec)) {
    state.problems.push({ kind: "exception", line: lineOfNode(node) });
  }
}

function lineOfNode(node: ts.Node): number {
  return lineOf(node.getSourceFile(), node);
}

function runStatement(statement: ts.Statement, released: boolean, guard: Guard, state: Walk): Flow {
  const { name, spec } = state;
  if (released) return { completes: true, released: true };
  if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement)) {
    return { completes: true, released };
  }
  if (ts.isTypeAliasDeclaration(statement) || ts.isEmptyStatement(statement)) return { completes: true, released };
  if (ts.isBlock(statement)) return runSequence(statement.statements, released, guard, state);
  if (ts.isLabeledStatement(statement)) return runStatement(statement.statement, released, guard, state);
  if (ts.isReturnStatement(statement)) {
    if (statement.expression && containsRelease(statement.expression, name, spec)) {
      return { completes: false, released: true };
    }
    if (statement.expression) noteException(statement.expression, guard, state);
    if (!guard.finallyReleases) state.problems.push({ kind: "path", line: lineOfNode(statement), how: "return" });
    return { completes: false, released: false };
  }
  if (ts.isThrowStatement(statement)) {
    if (!guard.finallyReleases && !guard.caught && !state.callbackStyle) {
      state.problems.push({ kind: "path", line: lineOfNode(statement), how: "throw" });
    }
    return { completes: false, released: false };
  }
  if (ts.isBreakStatement(statement) || ts.isContinueStatement(statement)) {
    // Leaves the enclosing loop or switch; treated as completing that construct.
    return { completes: true, released };
  }
  if (ts.isIfStatement(statement)) {
    noteException(statement.expression, guard, state);
    const errorCheck = state.errorName !== null && referencesTo(statement.expression, state.errorName).length > 0;
    const thenFlow = errorCheck
      ? { completes: false, released: true }
      : runStatement(statement.thenStatement, released, guard, state);
    const elseFlow = statement.elseStatement
      ? runStatement(statement.elseStatement, released, guard, state)
      : { completes: true, released };
    return merge([thenFlow, elseFlow]);
  }
  if (ts.isTryStatement(statement)) return runTry(statement, released, guard, state);
  if (ts.isSwitchStatement(statement)) {
    noteException(statement.expression, guard, state);
    const flows: Flow[] = [];
    let hasDefault = false;
    for (const clause of statement.caseBlock.clauses) {
      if (ts.isDefaultClause(clause)) hasDefault = true;
      if (clause.statements.length === 0) continue; // falls through to the next clause
      flows.push(runSequence(clause.statements, released, guard, state));
    }
    if (!hasDefault) flows.push({ completes: true, released });
    return merge(flows);
  }
  if (
    ts.isForStatement(statement) ||
    ts.isForOfStatement(statement) ||
    ts.isForInStatement(statement) ||
    ts.isWhileStatement(statement) ||
    ts.isDoStatement(statement)
  ) {
    const header = ts.isForStatement(statement)
      ? [statement.initializer, statement.condition, statement.incrementor]
      : ts.isForOfStatement(statement) || ts.isForInStatement(statement)
        ? [statement.expression]
        : [statement.expression];
    for (const part of header) if (part) noteException(part, guard, state);
    const body = runStatement(statement.statement, released, guard, state);
    // A do-while body runs at least once; other loops may not run at all.
    return { completes: true, released: ts.isDoStatement(statement) ? body.released : released };
  }
  // Expression, variable and other simple statements.
  const releases = containsRelease(statement, name, spec);
  if (!releases || statementThrowsBeforeRelease(statement, name, spec)) noteException(statement, guard, state);
  return { completes: true, released: releases };
}

/** `await client.query(); client.release()` in one statement: the part before the release may throw. */
function statementThrowsBeforeRelease(statement: ts.Statement, name: string, spec: ReleaseSpec): boolean {
  if (!ts.isExpressionStatement(statement)) return false;
  const expression = unwrapTypes(statement.expression);
  const inner = ts.isAwaitExpression(expression) ? unwrapTypes(expression.expression) : expression;
  if (isReleaseCall(inner, name, spec)) return false;
  return mayThrow(statement, name, spec);
}

function runTry(statement: ts.TryStatement, released: boolean, guard: Guard, state: Walk): Flow {
  const { name, spec } = state;
  const finallyReleases = statement.finallyBlock ? containsRelease(statement.finallyBlock, name, spec) : false;
  if (finallyReleases) {
    const inner = runSequence(statement.tryBlock.statements, released, { finallyReleases: true, caught: true }, state);
    if (statement.catchClause) {
      runSequence(statement.catchClause.block.statements, false, { finallyReleases: true, caught: true }, state);
    }
    return { completes: inner.completes || Boolean(statement.catchClause), released: true };
  }
  if (!statement.catchClause) {
    const inner = runSequence(statement.tryBlock.statements, released, guard, state);
    if (statement.finallyBlock) {
      const after = runSequence(statement.finallyBlock.statements, inner.released, guard, state);
      return { completes: inner.completes && after.completes, released: after.released };
    }
    return inner;
  }
  const tryFlow = runSequence(statement.tryBlock.statements, released, { finallyReleases: false, caught: true }, state);
  const before = state.problems.length;
  const catchFlow = runSequence(statement.catchClause.block.statements, false, { ...guard, inCatch: true }, state);
  // A catch that rethrows without releasing is the "exception" problem, not an early exit.
  for (let i = before; i < state.problems.length; i++) {
    const problem = state.problems[i];
    if (problem.kind === "path" && problem.how === "throw") {
      state.problems[i] = { kind: "exception", line: problem.line };
    }
  }
  let flow = merge([tryFlow, catchFlow]);
  if (statement.finallyBlock) {
    const after = runSequence(statement.finallyBlock.statements, flow.released, guard, state);
    flow = { completes: flow.completes && after.completes, released: after.released };
  }
  return flow;
}

function merge(flows: readonly Flow[]): Flow {
  const completing = flows.filter((flow) => flow.completes);
  if (completing.length === 0) return { completes: false, released: flows.every((flow) => flow.released) };
  return { completes: true, released: completing.every((flow) => flow.released) };
}

export interface LifecycleInput {
  /** The bound name of the resource. */
  name: string;
  /** The statement after which the resource is live; null: live from the start of the owner's body. */
  anchor: ts.Statement | null;
  /** Function (or source file) that owns the resource. */
  owner: FunctionLike | ts.SourceFile;
  spec: ReleaseSpec;
  /** The binding is block-scoped to the anchor's block (const/let), or the anchor's block is the owner's body. */
  endsWithBlock: boolean;
  callbackStyle?: boolean;
  errorName?: string | null;
  /**
   * Names that stand for the resource when it is used (`client` while `name` is the
   * `done` callback); defaults to `[name]`.
   */
  resourceNames?: readonly string[];
}

/** Returns the first problem with the resource's lifecycle, or null when it is handled. */
export function checkLifecycle(input: LifecycleInput): Problem | null {
  const { name, anchor, owner, spec } = input;
  const ownerBody = isFunctionLike(owner) ? owner.body : owner;
  if (!ownerBody) return null;
  if (ownershipMoves(ownerBody, name, spec)) {
    if (onlyReleasedOnFulfilment(ownerBody, name, spec)) return { kind: "rejection" };
    return releasedInResultCallback(owner, ownerBody, name, spec, input.resourceNames ?? [name]);
  }
  if (!releasedAnywhere(ownerBody, name, spec)) return { kind: "never" };
  if (!anchor && !ts.isBlock(ownerBody)) return null; // concise arrow body: the value is returned
  // An enclosing try whose finally releases covers everything from the acquisition on.
  for (let node: ts.Node | undefined = anchor?.parent; anchor && node && node !== ownerBody; node = node.parent) {
    if (ts.isTryStatement(node) && node.finallyBlock && !isInside(anchor, node.finallyBlock)) {
      if (containsRelease(node.finallyBlock, name, spec)) return null;
    }
  }
  const block = anchor ? anchor.parent : ownerBody;
  if (!(ts.isBlock(block) || ts.isSourceFile(block) || ts.isCaseClause(block) || ts.isDefaultClause(block))) return null;
  const statements = block.statements;
  const index = anchor ? statements.indexOf(anchor) : -1;
  if (anchor && index < 0) return null;
  const state: Walk = {
    name,
    spec,
    problems: [],
    callbackStyle: input.callbackStyle ?? false,
    errorName: input.errorName ?? null,
  };
  const guard = anchor ? enclosingGuard(anchor, ownerBody, name, spec) : { finallyReleases: false, caught: false };
  const flow = runSequence(statements.slice(index + 1), false, guard, state);
  if (flow.completes && !flow.released && input.endsWithBlock) {
    const last = statements[statements.length - 1];
    state.problems.push({ kind: "path", line: lineOfNode(last), how: "end" });
  }
  const path = state.problems.find((problem) => problem.kind === "path");
  return path ?? state.problems[0] ?? null;
}

/**
 * `conn.query(sql, (err, rows) => { if (err) return cb(err); conn.release(); cb(null, rows); })`:
 * the one release sits in the result callback of a call on the resource itself, so that
 * callback is where every path must release. Classic callback code leaks on exactly that
 * `if (err) return` branch, and an error there is the normal way to get there (no
 * exception tracking: callbacks report failures as arguments). Anything less clear-cut
 * (several releases, the callback nested deeper, the resource handed on) stays trusted.
 */
function releasedInResultCallback(
  owner: FunctionLike | ts.SourceFile,
  ownerBody: ts.Node,
  name: string,
  spec: ReleaseSpec,
  resourceNames: readonly string[],
): Problem | null {
  const releases: ts.CallExpression[] = [];
  walk(ownerBody, (child) => {
    if (isReleaseCall(child, name, spec)) releases.push(child as ts.CallExpression);
    return true;
  });
  if (releases.length !== 1) return null;
  const release = releases[0];
  const callback = enclosingFunction(release);
  if (!callback || callback === owner || !callback.body || !ts.isBlock(callback.body)) return null;
  if (!(ts.isArrowFunction(callback) || ts.isFunctionExpression(callback))) return null;
  const host = callback.parent;
  if (!ts.isCallExpression(host) || host.arguments[host.arguments.length - 1] !== callback) return null;
  const callee = unwrapTypes(host.expression);
  if (!ts.isPropertyAccessExpression(callee) || !resourceNames.some((resource) => isName(callee.expression, resource))) return null;
  if (enclosingFunction(host) !== (isFunctionLike(owner) ? owner : null)) return null;
  // Nothing but that release may move ownership (no hand-off, no storing, no return).
  for (const resource of new Set([name, ...resourceNames])) {
    for (const reference of referencesTo(ownerBody, resource)) {
      if (isInside(reference, release)) continue;
      if (ts.isPropertyAccessExpression(reference.parent) && reference.parent.expression === reference) continue;
      if (referenceMovesOwnership(reference, resource, spec, owner)) return null;
    }
  }
  const problem = checkLifecycle({ name, anchor: null, owner: callback, spec, endsWithBlock: true, callbackStyle: true });
  return problem?.kind === "path" ? { ...problem, inCallback: true } : null;
}

/** Exceptions inside an enclosing try/catch (within the owner) are caught there. */
function enclosingGuard(anchor: ts.Node, ownerBody: ts.Node, name: string, spec: ReleaseSpec): Guard {
  for (let node: ts.Node | undefined = anchor.parent; node && node !== ownerBody; node = node.parent) {
    if (ts.isTryStatement(node) && node.catchClause && isInside(anchor, node.tryBlock)) {
      if (containsRelease(node.catchClause.block, name, spec)) return { finallyReleases: false, caught: true };
    }
  }
  return { finallyReleases: false, caught: false };
}
