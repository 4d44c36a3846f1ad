/**
 * # pool-client-not-released
 *
 * ## What it does
 * Flags a database client that is not given back on every path: node-postgres
 * `await pool.connect()` (and the callback form `pool.connect((err, client, done) => ...)`),
 * mysql2 `await pool.getConnection()` / `pool.getConnection((err, conn) => ...)`,
 * generic-pool `await pool.acquire()`, and the connection a non-pooled
 * `new pg.Client()` opens with `connect()` (ended by `end()`). Each function is analysed
 * as a control-flow graph: a release counts only when it happens on every path, including
 * exceptions, early `return`s and the error branch of a callback. A release inside a
 * callback that may never run (an event listener such as `res.on("finish", ...)` or
 * `stream.on("end", done)`, a success-only `.then`) does not cover every path; one in
 * `.finally()`, in both arms of `.then(ok, fail)`, or in a driver's own result callback
 * (`client.query(sql, cb)`) does. Passing the client to a function named `callback` or
 * `handler` is no proof of release; passing it to a project function that releases it
 * (`giveBack(client)`) is. Project functions that return a checkout (`getClient()`) make
 * their callers the owners. A client kept in a field (`this.client = await pool.connect()`)
 * is checked against the methods of its class: one of them must release it (a close path,
 * `release()`, `close()`, `destroy()` and the like, that hands the field to a helper,
 * `unlistenAndRelease(this.client)`, counts). Returned
 * clients move ownership to the caller. A client given to an object that lives only inside
 * the function (`const repo = new Repo(client); return repo.list()`) is still the
 * function's to release, and so is one given to an object or container that the function
 * itself releases the client after. Pools reached through an argument-less getter
 * (`db.getPool().connect()`) count as pools.
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
 * Safe. The fix wraps the statements that use the client, from the one after the
 * checkout to the last one that needs it, in `try { ... } finally { client.release(); }`
 * (generic-pool: `pool.release(resource)`), dropping the happy-path release it replaces;
 * when the code releases through its own helper (`giveBack(client)`), the finally calls
 * that helper. Only the moved lines are re-indented, with the file's own indent unit, and
 * the finally line follows the file's semicolon style. It is offered only when every
 * existing release is a plain statement of that block (anything else could release twice,
 * which node-postgres rejects), when the client is not handed to anyone on any path, and
 * never for callback, `.then()` or `pg.Client` connections.
 *
 * ## Options
 * `sessions.closers` in the config: functions that take ownership of a client when it
 * is passed to them (matched by their last name segment). `resources:` adds your own
 * acquire/release pairs.
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
