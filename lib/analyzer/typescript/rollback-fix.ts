import { ts } from "ts-morph";
import type { Span } from "../flow/graph.ts";
import type { ModelRegistry } from "../flow/models.ts";
import { verdictFor } from "../flow/resource-flow.ts";
import type { Fix } from "../types.ts";
import { isFunctionLike, isInside, methodCall, positionAt, referencesTo, unwrap, walk } from "./ast.ts";
import type { SiteResult } from "./flow/analyze-file.ts";
import { aloneOnLine, assignsTo, collectNames, contains, indentOfLine, indentUnit, isPlainReleaseStatement, templateLines, usesSemicolons } from "./try-finally-fix.ts";

// The fix of transaction-not-finished: a transaction committed on every normal path but
// left open when something between its start and the commit throws. The statements from
// the one after the start to the last commit go into
//
//   try { ...; await qr.commitTransaction() }
//   catch (error) { await qr.rollbackTransaction().catch(() => {}); throw error }
//
// which is what TypeORM's own managed `transaction()` does: roll back, ignore an error of
// the rollback itself, rethrow the original. The error still reaches the caller unchanged;
// only the transaction no longer stays open on the connection (a released runner gives its
// connection back to the pool inside the aborted transaction otherwise).
//
// Safe only for TypeORM query runners, whose protocol the model states (the runner type has
// a rollback method that closes the transaction its startTransaction opened) and which the
// integration tests execute; knex and Sequelize transactions get the same edit labelled
// unsafe. No fix when: the transaction is not committed on some normal path (where to commit
// is a decision about the data), it is handed on, a commit or rollback is not a plain
// statement of the block the transaction starts in (a branch that already rolls back), the
// range starts another transaction, the owner is not an async function, or the runner is
// not one this function created and kept (see ownsRunner).

/** Libraries whose rollback-in-catch fix is executed against the real library in tests. */
const EXECUTED: ReadonlySet<string> = new Set(["typeorm.Transaction"]);

export type RollbackFixInput = {
  path: string;
  text: string;
  sourceFile: ts.SourceFile;
  registry: ModelRegistry;
  entry: SiteResult;
  /** Every site of the file: a TypeORM transaction's runner is found among them. */
  sites: readonly SiteResult[];
};

export function rollbackFix(input: RollbackFixInput): Fix | null {
  const { text, sourceFile, entry } = input;
  const { site, report } = entry;
  const verdict = verdictFor(entry.result, site.id);
  if (verdict.kind !== "leak" || verdict.normal || !verdict.exception || verdict.transferred) return null;
  if ((report?.transfers.length ?? 0) > 0) return null;
  if (verdict.releases.length === 0) return null;
  if (!isFunctionLike(site.owner) || (ts.getCombinedModifierFlags(site.owner) & ts.ModifierFlags.Async) === 0) return null;

  const target = transactionTarget(input);
  if (!target) return null;
  const { statement, receiver, rollback, opening } = target;
  const block = statement.parent;
  if (!ts.isBlock(block)) return null;
  const statements = block.statements;
  const rest = statements.slice(statements.indexOf(statement) + 1);
  if (rest.length === 0) return null;

  // Every commit/rollback the dataflow saw must be in a statement of this block: a plain
  // statement, or nested in one (`if (a) { ...; await qr.commitTransaction() } else { ... }`),
  // never in a nested function. The added rollback after the code's own commit or rollback
  // is refused by TypeORM (`TransactionNotStartedError`: every driver checks
  // `isTransactionActive` first) and ignored, so it cannot undo anything the code finished,
  // provided the transaction is the runner's only one (checked below).
  let last = -1;
  for (const finish of verdict.releases) {
    const at = rest.findIndex((item) => contains(sourceFile, item, finish));
    if (at < 0) return null;
    if (!isPlainReleaseStatement(sourceFile, rest[at], finish)) {
      const call = callAt(sourceFile, rest[at], finish);
      if (!call) return null;
      if (insideFunction(call, rest[at])) return null;
    }
    if (!aloneOnLine(text, rest[at].getStart(sourceFile), rest[at].getEnd())) return null;
    last = Math.max(last, at);
  }
  if (last < 0) return null;
  // A name declared in the range and used after it: the range runs to the end of the block
  // (the rollback after a commit is refused by the library and ignored, so code after the
  // commit inside the try changes nothing when it throws).
  const declared = new Set<string>();
  for (const item of rest.slice(0, last + 1)) {
    if (ts.isVariableStatement(item)) for (const d of item.declarationList.declarations) collectNames(d.name, declared);
  }
  if ([...declared].some((name) => rest.slice(last + 1).some((item) => referencesTo(item, name).length > 0))) last = rest.length - 1;
  const wrapped = rest.slice(0, last + 1);
  if (wrapped.some((item) => ts.isFunctionDeclaration(item) || ts.isClassDeclaration(item))) return null;
  // The receiver must keep meaning the same runner, and no other transaction may be open on
  // it (nested ones are savepoints: a rollback at the wrong depth would undo the outer one).
  const receiverName = receiver.split(".")[0];
  if (wrapped.some((item) => assignsTo(item, receiverName))) return null;
  if (site.origin === "opens" && !ownsRunner(input, receiverName)) return null;
  if (!onlyTransaction(site.owner, site.node, opening)) return null;
  // The rollback must run before the runner is released: a release in a `finally` or `catch`
  // inside the range (a `try { ... } finally { await qr.release() }` after the start) would
  // run first when something throws, and a released runner refuses the rollback, so the
  // connection would go back to the pool still inside the transaction. That shape needs a
  // catch on the existing try instead: no fix.
  if (site.origin === "opens" && releasesRunnerIn(input, receiver, wrapped)) return null;

  const newline = text.includes("\r\n") ? "\r\n" : "\n";
  const afterStatement = text.indexOf("\n", statement.getEnd());
  if (afterStatement < 0) return null;
  const trailing = text.slice(statement.getEnd(), afterStatement).trim();
  if (trailing !== "" && !trailing.startsWith("//")) return null;
  if (!aloneOnLine(text, statement.getStart(sourceFile), statement.getEnd())) return null;
  const from = afterStatement + 1;
  const to = wrapped[wrapped.length - 1].getEnd();
  if (from > wrapped[0].getStart(sourceFile)) return null;
  // The last wrapped statement must end its line (a trailing comment stays after the `}` otherwise).
  const lineEnd = text.indexOf("\n", to);
  if (text.slice(to, lineEnd < 0 ? text.length : lineEnd).trim() !== "") return null;

  const baseIndent = indentOfLine(text, statement.getStart(sourceFile));
  const unit = indentUnit(text, block, sourceFile, baseIndent);
  const frozen = templateLines(sourceFile, from, to);
  const semicolon = usesSemicolons(sourceFile, statement) ? ";" : "";
  const lines: string[] = [];
  let lineStart = from;
  while (lineStart <= to) {
    let end = text.indexOf("\n", lineStart);
    if (end < 0 || end > to) end = to;
    const raw = text.slice(lineStart, end).replace(/\r$/, "");
    if (frozen.has(lineStart) || raw.trim() === "") lines.push(raw.trim() === "" ? "" : raw);
    else lines.push(unit + raw);
    if (end >= to) break;
    lineStart = end + 1;
  }
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  // A blank line right after the start stays out of the new block's first line.
  while (lines.length > 0 && lines[0] === "") lines.shift();
  if (lines.length === 0) return null;

  const caught = freeName(site.owner, ["error", "err", "cause"]);
  if (!caught) return null;
  const rollbackCall = `await ${receiver}.${rollback}().catch(() => {})`;
  const replacement = [
    `${baseIndent}try {`,
    ...lines,
    `${baseIndent}} catch (${caught}) {`,
    `${baseIndent}${unit}${rollbackCall}${semicolon}`,
    `${baseIndent}${unit}throw ${caught}${semicolon}`,
    `${baseIndent}}`,
  ].join(newline);
  return {
    safety: EXECUTED.has(site.type) ? "safe" : "unsafe",
    description: `Roll the transaction back when the code before the commit throws: wrap it in try/catch, call \`${receiver}.${rollback}()\` in the catch block and rethrow`,
    edits: [{ path: input.path, start: positionAt(sourceFile, from), end: positionAt(sourceFile, to), text: replacement }],
  };
}

type Target = {
  /** The statement that starts the transaction: `await qr.startTransaction()` or `const trx = await knex.transaction()`. */
  statement: ts.Statement;
  /** What the rollback is called on: `queryRunner`, `this.queryRunner`, `trx`. */
  receiver: string;
  rollback: string;
  /** The method that starts a transaction (a second one in the range is refused). */
  opening: string;
};

function transactionTarget(input: RollbackFixInput): Target | null {
  const { site } = input.entry;
  const call = site.node;
  if (!ts.isCallExpression(call) || !ts.isPropertyAccessExpression(call.expression)) return null;
  const opening = call.expression.name.text;
  let outer: ts.Node = call;
  while (ts.isParenthesizedExpression(outer.parent)) outer = outer.parent;
  if (!ts.isAwaitExpression(outer.parent)) return null;
  const awaited = outer.parent;
  if (site.origin === "opens") {
    // `await queryRunner.startTransaction()` as a statement of its own; the receiver's model
    // names the method that rolls back what this one opened.
    if (!ts.isExpressionStatement(awaited.parent)) return null;
    const receiver = site.receiverText;
    if (!receiver || !/^(this\.)?[A-Za-z_$][\w$]*$/.test(receiver)) return null;
    const rollback = rollbackMethodOpening(input.registry, opening, site.type);
    if (!rollback) return null;
    return { statement: awaited.parent, receiver, rollback, opening };
  }
  if (site.origin === "call") {
    // `const trx = await knex.transaction()`: the transaction object itself rolls back.
    const declaration = site.declaration;
    if (!declaration || declaration.initializer !== awaited || !ts.isIdentifier(declaration.name)) return null;
    const list = declaration.parent;
    const statement = list.parent;
    if (!ts.isVariableDeclarationList(list) || !ts.isVariableStatement(statement) || list.declarations.length !== 1) return null;
    const rollback = site.facts.releaseMethods.find((name) => /rollback/i.test(name));
    if (!rollback) return null;
    return { statement, receiver: declaration.name.text, rollback, opening };
  }
  return null;
}

/** The rollback method of the type whose `opening` method opens `opened` (TypeORM: rollbackTransaction). */
function rollbackMethodOpening(registry: ModelRegistry, opening: string, opened: string): string | null {
  for (const type of registry.types.values()) {
    const methods = type.methods ?? {};
    if (methods[opening]?.opens !== opened) continue;
    const rollback = Object.entries(methods).find(([name, model]) => model.closes === opened && /rollback/i.test(name));
    if (rollback) return rollback[0];
  }
  return null;
}

/**
 * The runner a transaction was started on must be this function's own: created here by an
 * unconditional `const qr = ds.createQueryRunner()` and handed to no one. A runner that came
 * from a caller (a parameter, a field, `this.qr ?? ...`) may have its transaction rolled back
 * by that caller, and a second rollback throws.
 */
function ownsRunner(input: RollbackFixInput, name: string): boolean {
  const { entry } = input;
  return input.sites.some((other) => {
    if (other.lowered !== entry.lowered || other.site.origin !== "call" || other.site.field) return false;
    const declaration = other.site.declaration;
    if (!declaration || !ts.isIdentifier(declaration.name) || declaration.name.text !== name || !declaration.initializer) return false;
    if (unwrap(declaration.initializer) !== other.site.node) return false;
    return (other.report?.transfers.length ?? 0) === 0;
  });
}

/**
 * Does the release run when something before it throws, ahead of the added catch: in a
 * `finally` block or a `catch` clause inside the range? A plain release after the commit
 * runs on the normal path only: if a statement before it throws, the catch rolls back
 * first; if it or a later statement throws, the transaction is already committed and the
 * rollback on the released runner is refused and ignored.
 */
function onExceptionPath(call: ts.Node, container: ts.Node): boolean {
  for (let node: ts.Node = call; node !== container && node.parent; node = node.parent) {
    if (ts.isCatchClause(node)) return true;
    if (ts.isTryStatement(node.parent) && node.parent.finallyBlock === node) return true;
  }
  return false;
}

/** Does a wrapped statement release the runner `receiver` on an exception path (a release method of any site bound to that name)? */
function releasesRunnerIn(input: RollbackFixInput, receiver: string, wrapped: readonly ts.Statement[]): boolean {
  const name = receiver.split(".").pop() ?? receiver;
  // The runner's own release methods as its model states them (TypeORM: release), not the
  // transaction's commit/rollback. ownsRunner has already found the runner among the sites.
  const finishing = new Set(input.entry.site.facts.releaseMethods);
  const methods = new Set<string>();
  for (const other of input.sites) {
    if (other === input.entry) continue;
    const declaration = other.site.declaration;
    if (other.site.field === name || (declaration && ts.isIdentifier(declaration.name) && declaration.name.text === name)) {
      for (const method of other.site.facts.releaseMethods) if (!finishing.has(method)) methods.add(method);
    }
  }
  const { sourceFile } = input;
  let found = false;
  for (const item of wrapped) {
    walk(item, (child) => {
      if (found) return false;
      const call = methodCall(child);
      if (call && methods.has(call.method) && call.receiver.getText(sourceFile) === receiver && onExceptionPath(child, item)) found = true;
      return !found;
    });
    if (found) return true;
  }
  return false;
}

/** The call expression whose span is `span`, inside `node`. */
function callAt(sourceFile: ts.SourceFile, node: ts.Node, span: Span): ts.CallExpression | null {
  let found: ts.CallExpression | null = null;
  walk(node, (child) => {
    if (found) return false;
    if (ts.isCallExpression(child)) {
      const start = positionAt(sourceFile, child.getStart(sourceFile));
      const end = positionAt(sourceFile, child.getEnd());
      if (start.line === span.start.line && start.column === span.start.column && end.line === span.end.line && end.column === span.end.column) found = child;
    }
    return !found;
  });
  return found;
}

function insideFunction(node: ts.Node, container: ts.Node): boolean {
  for (let current = node.parent; current && current !== container; current = current.parent) if (isFunctionLike(current)) return true;
  return false;
}

/**
 * Is `start` the only call of `opening` in the function that can run with it? Another one
 * is allowed only in the other branch of an `if` (`if (aurora) { start; ... } else { start; ... }`).
 */
function onlyTransaction(owner: ts.Node, start: ts.Node, opening: string): boolean {
  let alone = true;
  walk(owner, (child) => {
    if (!alone) return false;
    if (child !== start && ts.isCallExpression(child) && ts.isPropertyAccessExpression(child.expression) && child.expression.name.text === opening) {
      if (!exclusiveBranches(start, child)) alone = false;
    }
    return alone;
  });
  return alone;
}

function exclusiveBranches(a: ts.Node, b: ts.Node): boolean {
  const ancestors = new Set<ts.Node>();
  for (let current: ts.Node | undefined = a; current; current = current.parent) ancestors.add(current);
  let child: ts.Node = b;
  for (let current = b.parent; current; child = current, current = current.parent) {
    if (!ancestors.has(current)) continue;
    if (!ts.isIfStatement(current) || !current.elseStatement) return false;
    const side = (node: ts.Node) => (isInside(node, current.thenStatement) ? "then" : isInside(node, current.elseStatement as ts.Statement) ? "else" : null);
    const sideOfB = child === current.thenStatement ? "then" : child === current.elseStatement ? "else" : null;
    return sideOfB !== null && side(a) !== null && side(a) !== sideOfB;
  }
  return false;
}

/** The first candidate the function never mentions, for the catch clause's variable. */
function freeName(owner: ts.Node, candidates: string[]): string | null {
  const used = new Set<string>();
  walk(owner, (child) => {
    if (ts.isIdentifier(child)) used.add(child.text);
    return true;
  });
  return candidates.find((name) => !used.has(name)) ?? null;
}
