/**
 * # transaction-not-finished
 *
 * ## What it does
 * Flags a transaction that is started by hand and not committed or rolled back on every
 * path: knex `const trx = await knex.transaction()`, Sequelize's unmanaged
 * `const t = await sequelize.transaction()`, and TypeORM
 * `await queryRunner.startTransaction()` (finished by `commitTransaction()` /
 * `rollbackTransaction()`). The managed forms that take a callback
 * (`knex.transaction(async (trx) => ...)`, `sequelize.transaction(async (t) => ...)`,
 * `dataSource.transaction(...)`) finish the transaction themselves and are not flagged;
 * neither is a transaction that is returned or handed to an owner.
 *
 * ## Why is this bad?
 * An open transaction keeps its connection checked out and holds its row locks. When an
 * exception skips the `rollback()`, the connection goes back to nobody, other requests
 * block on the locks, and the pool drains.
 *
 * ## Example
 * ```ts
 * export async function moveStock(from: number, to: number, qty: number) {
 *   const trx = await knex.transaction();
 *   await trx("stock").where({ id: from }).decrement("qty", qty);
 *   await trx("stock").where({ id: to }).increment("qty", qty);
 *   await trx.commit();
 * }
 * ```
 *
 * ## Use instead
 * ```ts
 * export async function moveStock(from: number, to: number, qty: number) {
 *   await knex.transaction(async (trx) => {
 *     await trx("stock").where({ id: from }).decrement("qty", qty);
 *     await trx("stock").where({ id: to }).increment("qty", qty);
 *   });
 * }
 * ```
 * or commit in the `try` and `rollback()` in a `catch` that rethrows.
 *
 * ## Fix safety
 * No fix: where to commit and what to roll back is a decision about the data.
 *
 * ## Options
 * `sessions.closers` in the config: functions that take ownership of a transaction.
 */
import { ts } from "ts-morph";
import type { RawFinding, RuleMeta } from "../../types.ts";
import { methodCall, nodeRange, scopeName, unwrapTypes, walk, walkNear } from "../ast.ts";
import type { RuleContext } from "../context.ts";
import { checkLifecycle, isUsingDeclaration } from "../lifecycle.ts";
import { closerNames } from "../options.ts";
import { checkAcquisition, type ResourceKind } from "../resource-rule.ts";
import { ownerOf } from "../acquisition.ts";

export const meta: RuleMeta = {
  id: "transaction-not-finished",
  languages: ["typescript"],
  defaultSeverity: "error",
  fix: "none",
  summary: "A transaction started by hand is not committed or rolled back on every path",
};

export function applies(text: string): boolean {
  return /transaction\s*\(/i.test(text);
}

export function check(context: RuleContext): RawFinding[] {
  const closers = closerNames(context.options);
  const unmanaged: ResourceKind = {
    rule: meta.id,
    noun: "transaction",
    verb: "committed or rolled back",
    remedy: "call rollback() in a catch block that rethrows, or use the managed transaction(callback) form",
    spec: {
      methods: new Set(["commit", "rollback"]),
      argumentMethods: new Set(),
      helperPattern: /commit|rollback/i,
      setupMethods: new Set(),
      closers,
    },
    requireAwait: true,
    fixRelease: null,
  };
  const runnerSpec = {
    methods: new Set(["commitTransaction", "rollbackTransaction", "abortTransaction"]),
    argumentMethods: new Set<string>(),
    helperPattern: /commit|rollback|abort/i,
    setupMethods: new Set<string>(),
    closers,
  };
  const findings: RawFinding[] = [];
  walkNear(context.sourceFile, /[tT]ransaction/g, (node) => {
    const found = methodCall(node);
    if (!found) return true;
    if (found.method === "transaction" && isUnmanagedCall(found.call)) {
      const result = checkAcquisition(context, found.call, unmanaged);
      if (result) findings.push(result);
    }
    if (found.method === "startTransaction") {
      const result = checkStartTransaction(context, found.call, found.receiver, runnerSpec);
      if (result) findings.push(result);
    }
    return true;
  });
  return findings;
}

/** No arguments, or only an options object: no callback that would manage the transaction. */
function isUnmanagedCall(call: ts.CallExpression): boolean {
  if (call.arguments.length === 0) return true;
  return call.arguments.length === 1 && ts.isObjectLiteralExpression(unwrapTypes(call.arguments[0]));
}

/** TypeORM: `await queryRunner.startTransaction();` as a statement of its own. */
function checkStartTransaction(
  context: RuleContext,
  call: ts.CallExpression,
  receiver: ts.Expression,
  spec: ResourceKind["spec"],
): RawFinding | null {
  const runner = unwrapTypes(receiver);
  if (!ts.isIdentifier(runner)) return null;
  const awaited = call.parent;
  if (!ts.isAwaitExpression(awaited) || !ts.isExpressionStatement(awaited.parent)) return null;
  const statement = awaited.parent;
  const owner = ownerOf(statement);
  const ownerBody = ts.isSourceFile(owner) ? owner : owner.body;
  // `await using queryRunner = ...`: TypeORM's async dispose commits or rolls back.
  if (ownerBody && declaredWithUsing(ownerBody, runner.text)) return null;
  const problem = checkLifecycle({
    name: runner.text,
    anchor: statement,
    owner,
    spec,
    endsWithBlock: statement.parent === ownerBody,
  });
  if (!problem) return null;
  const subject = `The transaction started by \`${runner.text}.startTransaction()\``;
  const verb = "committed or rolled back";
  let message: string;
  switch (problem.kind) {
    case "never":
      message = `${subject} is never ${verb}`;
      break;
    case "exception":
      message = `${subject} is ${verb} only on the normal path: it is not rolled back when an exception is thrown (line ${problem.line}); call rollbackTransaction() in a catch block`;
      break;
    case "rejection":
      message = `${subject} is ${verb} only when the promise fulfils`;
      break;
    case "path":
      message =
        problem.how === "end"
          ? `${subject} is not ${verb} on every path (a path reaches the end of the block at line ${problem.line} without it)`
          : `${subject} is not ${verb} on the path that ${problem.how === "return" ? "returns" : "throws"} at line ${problem.line}`;
      break;
  }
  return { rule: meta.id, message, ...nodeRange(context.sourceFile, call), fix: null, scope: scopeName(call) };
}

function declaredWithUsing(body: ts.Node, name: string): boolean {
  let found = false;
  walk(body, (node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name && isUsingDeclaration(node)) found = true;
    return !found;
  });
  return found;
}
