/**
 * # pool-client-not-released
 *
 * ## What it does
 * Flags a client checked out of a connection pool that is not given back on every
 * path: node-postgres `await pool.connect()`, mysql2 `await pool.getConnection()` /
 * `pool.promise().getConnection()`, generic-pool `await pool.acquire()`, and the
 * callback forms `pool.connect((err, client, done) => ...)` /
 * `pool.getConnection((err, conn) => ...)`. Released on every path means `release()`
 * in a `finally` block, a `using`/`await using` declaration, or a release on every
 * branch including `catch` and early `return`/`throw`. A client that is returned,
 * stored on an object, handed to a function that takes ownership (`resolve`,
 * `register`, ...) or released from a `.finally()`/event callback is not flagged.
 *
 * ## Why is this bad?
 * A client that is not released stays checked out forever. After `max` leaks (10 by
 * default in node-postgres) every `pool.connect()` waits for a client that never comes
 * back and the service hangs. A `release()` on the happy path only leaks one client
 * per failed query, which is exactly when the database is already under stress.
 *
 * ## Example
 * ```ts
 * app.get("/users", async (req, res) => {
 *   const client = await pool.connect();
 *   const { rows } = await client.query("SELECT * FROM users");
 *   client.release();
 *   res.json(rows);
 * });
 * ```
 *
 * ## Use instead
 * ```ts
 * app.get("/users", async (req, res) => {
 *   const client = await pool.connect();
 *   try {
 *     const { rows } = await client.query("SELECT * FROM users");
 *     res.json(rows);
 *   } finally {
 *     client.release();
 *   }
 * });
 * ```
 * For a single query, `pool.query(...)` checks out and releases for you.
 *
 * ## Fix safety
 * Safe. The fix wraps the statements after the checkout, to the end of the block, in
 * `try { ... } finally { client.release(); }` and removes the now-redundant happy-path
 * `release()`. It is offered only when every existing release is a plain statement at
 * the top level of that block (a release inside a branch would run twice, which
 * node-postgres rejects) and never for the callback or `.then()` forms.
 *
 * ## Options
 * `sessions.closers` in the config: functions that take ownership of a client when it
 * is passed to them (matched by their last name segment).
 */
import type { RawFinding, RuleMeta } from "../../types.ts";
import type { RuleContext } from "../context.ts";
import { leakFindings } from "../flow/findings.ts";

export const meta: RuleMeta = {
  id: "pool-client-not-released",
  languages: ["typescript"],
  defaultSeverity: "error",
  fix: "safe",
  summary: "A client checked out of a connection pool is not released on every path",
};

export function check(context: RuleContext): RawFinding[] {
  return leakFindings(context, meta.id, { verb: "released", present: "releases", remedy: "call release() in a finally block" });
}
