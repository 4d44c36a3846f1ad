/**
 * # transaction-not-finished
 *
 * ## What it does
 * Flags a transaction that is started by hand and not committed or rolled back on every
 * path of the function's control flow: knex `const trx = await knex.transaction()` (and a
 * nested `await trx.transaction()`), Sequelize's unmanaged
 * `const t = await sequelize.transaction()`, and TypeORM
 * `await queryRunner.startTransaction()` (finished by `commitTransaction()` /
 * `rollbackTransaction()`; releasing the runner does not finish it). The managed forms
 * that take a callback (`knex.transaction(async (trx) => ...)`,
 * `sequelize.transaction(async (t) => ...)`, `dataSource.transaction(...)`) finish the
 * transaction themselves and are not flagged; neither is a transaction that is returned,
 * handed to an owner, or finished by a project helper that commits or rolls back the
 * transaction it is given (`commitTrans(trx)`).
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
 * For a transaction committed on every normal path but left open when something before the
 * commit throws, the fix wraps the statements after the start, up to the last commit, in
 * `try { ... } catch (error) { await queryRunner.rollbackTransaction().catch(() => {}); throw error }`,
 * as TypeORM's own managed `transaction()` does: the error still reaches the caller
 * unchanged, and a failed rollback does not replace it. When a name declared before the
 * commit is used after it, the `try` runs to the end of the block; a rollback after the
 * commit is refused by TypeORM (`TransactionNotStartedError`) and ignored, so it undoes
 * nothing. Safe for TypeORM query runners the function creates itself
 * (`const qr = ds.createQueryRunner()`, handed to no one) with no other transaction open
 * on them (another `startTransaction()` is allowed only in the other branch of an
 * `if`/`else`). knex and Sequelize transactions get the same edit (`trx.rollback()`)
 * labelled unsafe. No fix when some normal path does not commit (where to commit is a
 * decision about the data), the transaction or its runner is handed on or came from the
 * caller (who may roll it back too, and a second rollback throws), a commit or rollback
 * sits in a nested function, or the function is not `async`.
 *
 * ## Options
 * `sessions.closers` in the config: functions that take ownership of a transaction.
 * `resources:` adds your own acquire/release pairs.
*/
import type { RawFinding, RuleMeta } from "../../types.ts";
import type { RuleContext } from "../context.ts";
import { nodeRange } from "../ast.ts";
import { fileAnalysis, leakFindings } from "../flow/findings.ts";
import { rollbackFix } from "../rollback-fix.ts";

export const meta: RuleMeta = {
  id: "transaction-not-finished",
  languages: ["typescript"],
  defaultSeverity: "error",
  fix: "safe",
  summary: "A transaction started by hand is not committed or rolled back on every path",
};

export function check(context: RuleContext): RawFinding[] {
  const findings = leakFindings(context, meta.id, {
    verb: "committed or rolled back",
    present: "commits or rolls back",
    remedy: "roll it back in a catch block that rethrows, or use the managed transaction(callback) form",
  });
  if (findings.every((finding) => finding.fix)) return findings;
  // The rollback-in-catch fix, for transactions committed on every normal path only.
  const analysis = fileAnalysis(context);
  const at = (line: number, column: number) => `${line}:${column}`;
  const entries = new Map<string, (typeof analysis.sites)[number]>();
  for (const entry of analysis.sites) {
    if (entry.site.facts.rule !== meta.id || entry.site.field) continue;
    const { start } = nodeRange(context.sourceFile, entry.site.node);
    const key = at(start.line, start.column);
    if (!entries.has(key)) entries.set(key, entry);
  }
  return findings.map((finding) => {
    if (finding.fix) return finding;
    const entry = entries.get(at(finding.start.line, finding.start.column));
    if (!entry) return finding;
    const fix = rollbackFix({ path: context.path, text: context.text, sourceFile: context.sourceFile, registry: analysis.facts.registry, entry, sites: analysis.sites });
    return fix ? { ...finding, fix } : finding;
  });
}
