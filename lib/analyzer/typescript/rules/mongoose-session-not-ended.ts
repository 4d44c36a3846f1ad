/**
 * # mongoose-session-not-ended
 *
 * ## What it does
 * Flags a mongoose or MongoDB driver session from `startSession()` that is not
 * `endSession()`ed on every path: ended in a `finally` block, by `await using`, or on
 * every branch including `catch` and early `return`/`throw`. Helpers that manage the
 * session for you (`mongoose.connection.transaction(fn)`, `client.withSession(fn)`)
 * never call `startSession()` in your code and are not flagged; a session that is
 * returned, stored or handed to an owner is not flagged either.
 *
 * ## Why is this bad?
 * Every session holds a server session and, inside a transaction, locks. A session that
 * is never ended lingers until the server times it out (30 minutes by default); under
 * load the driver's session pool and the server's limit on open sessions run out, and a
 * transaction left open blocks writers on the documents it touched.
 *
 * ## Example
 * ```ts
 * export async function placeOrder(order: OrderInput) {
 *   const session = await mongoose.startSession();
 *   session.startTransaction();
 *   await Order.create([order], { session });
 *   await session.commitTransaction();
 *   session.endSession();
 * }
 * ```
 *
 * ## Use instead
 * ```ts
 * export async function placeOrder(order: OrderInput) {
 *   const session = await mongoose.startSession();
 *   try {
 *     await session.withTransaction(async () => {
 *       await Order.create([order], { session });
 *     });
 *   } finally {
 *     await session.endSession();
 *   }
 * }
 * ```
 *
 * ## Fix safety
 * Safe. Wraps the statements after `startSession()` to the end of the block in
 * `try { ... } finally { await session.endSession(); }` and drops the redundant
 * happy-path `endSession()`. Offered only when every existing `endSession()` is a plain
 * top-level statement of that block.
 *
 * ## Options
 * `sessions.closers` in the config: functions that take ownership of a session.
 */
import type { RawFinding, RuleMeta } from "../../types.ts";
import type { RuleContext } from "../context.ts";
import { leakFindings } from "../flow/findings.ts";

export const meta: RuleMeta = {
  id: "mongoose-session-not-ended",
  languages: ["typescript"],
  defaultSeverity: "warning",
  fix: "safe",
  summary: "A mongoose/MongoDB session from startSession() is not ended on every path",
};

export function check(context: RuleContext): RawFinding[] {
  return leakFindings(context, meta.id, { verb: "ended", present: "ends", remedy: "call endSession() in a finally block" });
}
