/**
 * # query-runner-not-released
 *
 * ## What it does
 * Flags a TypeORM `createQueryRunner()` result that is not `release()`d on every
 * path: released in a `finally` block, or on every branch including `catch` and early
 * `return`/`throw`. `queryRunner.connect()` and `queryRunner.startTransaction()` right
 * after creation are fine before the `try` (that is TypeORM's documented shape). A query
 * runner that is returned, stored on an object or handed to an owner is not flagged.
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
 * Safe. Wraps the statements after `createQueryRunner()` to the end of the block in
 * `try { ... } finally { await queryRunner.release(); }` and drops the redundant
 * happy-path `release()`. Offered only in `async` functions and only when every existing
 * release is a plain top-level statement of that block.
 *
 * ## Options
 * `sessions.closers` in the config: functions that take ownership of a query runner.
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
