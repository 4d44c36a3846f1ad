/**
 * # query-runner-not-released
 *
 * ## What it does
 * Flags a TypeORM `createQueryRunner()` result that is not `release()`d on every path of
 * the function's control flow: released in a `finally` block, or on every branch including
 * `catch` and early `return`/`throw`. `queryRunner.connect()` and
 * `queryRunner.startTransaction()` right after creation are fine before the `try` (that is
 * TypeORM's documented shape). Also flagged: a runner never bound to a name
 * (`(await ds.createQueryRunner()).query(sql)`, one created in a ternary or as a call
 * argument), one that may or may not be created here (`this.queryRunner ?? ds.createQueryRunner()`)
 * and is released only after the work succeeds, and one kept in a field
 * (`this.runner = ds.createQueryRunner()`) that no method of the class releases.
 * `dataSource.destroy()` releases every runner the data source made. A runner that is
 * returned or handed to an owner is not flagged.
 *
 * ## Why is this bad?
 * A connected query runner holds one connection from the data source's pool until it
 * is released. Forget it on the error path and every failed transaction pins a
 * connection; the pool drains and requests queue until they time out.
 *
 * ## Example
 * ```ts
 * async transfer(from: number, to: number, amount: number) {
 *   const queryRunner = this.dataSource.createQueryRunner();
 *   await queryRunner.connect();
 *   await queryRunner.manager.decrement(Account, { id: from }, "balance", amount);
 *   await queryRunner.manager.increment(Account, { id: to }, "balance", amount);
 *   await queryRunner.release();
 * }
 * ```
 *
 * ## Use instead
 * ```ts
 * async transfer(from: number, to: number, amount: number) {
 *   const queryRunner = this.dataSource.createQueryRunner();
 *   await queryRunner.connect();
 *   try {
 *     await queryRunner.manager.decrement(Account, { id: from }, "balance", amount);
 *     await queryRunner.manager.increment(Account, { id: to }, "balance", amount);
 *   } finally {
 *     await queryRunner.release();
 *   }
 * }
 * ```
 * Or let TypeORM manage it: `await this.dataSource.transaction(async (manager) => ...)`.
 *
 * ## Fix safety
 * Safe. Wraps the statements that use the runner, from the one after `createQueryRunner()`
 * to the last one that needs it, in `try { ... } finally { await queryRunner.release(); }`
 * and drops the redundant happy-path `release()`, keeping the file's indentation and
 * semicolon style. Offered only in `async` functions, only when every existing release is
 * a plain top-level statement of that block, and only when the runner is not handed to
 * anyone on any path.
 *
 * ## Options
 * `sessions.closers` in the config: functions that take ownership of a query runner.
 * `resources:` adds your own acquire/release pairs.
*/
import type { RawFinding, RuleMeta } from "../../types.ts";
import type { RuleContext } from "../context.ts";
import { leakFindings } from "../flow/findings.ts";

export const meta: RuleMeta = {
  id: "query-runner-not-released",
  languages: ["typescript"],
  defaultSeverity: "error",
  fix: "safe",
  summary: "A TypeORM query runner is not released on every path",
};

export function check(context: RuleContext): RawFinding[] {
  return leakFindings(context, meta.id, { verb: "released", present: "releases", remedy: "call release() in a finally block" });
}
