import { ts } from "ts-morph";
import type { ModelRegistry } from "../flow/models.ts";
import { verdictFor } from "../flow/resource-flow.ts";
import type { Fix } from "../types.ts";
import { isFunctionLike, positionAt, referencesTo, walk } from "./ast.ts";
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
// range starts another transaction, or the owner is not an async function.

/** Libraries whose rollback-in-catch fix is executed against the real library in tests. */
const EXECUTED: ReadonlySet<string> = new Set(["typeorm.Transaction"]);

export type RollbackFixInput = {
  path: string;
  text: string;
  sourceFile: ts.SourceFile;
  registry: ModelRegistry;
  entry: SiteResult;
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

  // Every commit/rollback the dataflow saw must be a plain statement of this block.
  let last = -1;
  for (const finish of verdict.releases) {
    const at = rest.findIndex((item) => contains(sourceFile, item, finish));
    if (at < 0 || !isPlainReleaseStatement(sourceFile, rest[at], finish)) return null;
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
  // The receiver must keep meaning the same runner, and the range must not open another
  // transaction (a savepoint whose rollback would leave the outer one open).
  const receiverName = receiver.split(".")[0];
  if (receiverName !== "this" && wrapped.some((item) => assignsTo(item, receiverName))) return null;
  if (wrapped.some((item) => callsMethod(item, opening))) return null;

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

function callsMethod(node: ts.Node, method: string): boolean {
  let found = false;
  walk(node, (child) => {
    if (found) return false;
    if (ts.isCallExpression(child) && ts.isPropertyAccessExpression(child.expression) && child.expression.name.text === method) found = true;
    return !found;
  });
  return found;
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
