/**
 * # mongoose-session-not-ended
 *
 * ## What it does
 * Flags a mongoose or MongoDB driver session from `startSession()` (`mongoose.startSession()`,
 * `connection.startSession()`, `Model.startSession()`, `client.startSession()` on a
 * `MongoClient`) that is not `endSession()`ed on every path of the function's control flow:
 * ended in a `finally` block, by `await using`, or on every branch including `catch` and
 * early `return`/`throw`. Helpers that manage the session for you
 * (`mongoose.connection.transaction(fn)`, `client.withSession(fn)`) never call
 * `startSession()` in your code and are not flagged; a session that is returned, stored or
 * handed to an owner is not flagged either; a project function that ends the session it is
 * given counts as ending it.
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
 * Safe. Wraps the statements that use the session, from the one after `startSession()` to
 * the last one that needs it, in `try { ... } finally { await session.endSession(); }`
 * (without `await` outside `async` functions) and drops the redundant happy-path
 * `endSession()`, keeping the file's indentation and semicolon style. Offered only when
 * every existing `endSession()` is a plain top-level statement of that block and the
 * session is not handed to anyone on any path.
 *
 * ## Options
 * `sessions.closers` in the config: functions that take ownership of a session.
 * `resources:` adds your own acquire/release pairs.
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
