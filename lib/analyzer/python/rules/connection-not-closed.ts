/**
 * # connection-not-closed
 *
 * ## What it does
 * Flags database connections not closed or released on every path, bound to a name or
 * not: SQLAlchemy `engine.connect()` and `engine.raw_connection()`, `sqlite3.connect()`,
 * `psycopg2.connect()` and psycopg2 pools' `getconn()` (released by `putconn()`),
 * `psycopg.connect()`, psycopg_pool `getconn()`, PyMySQL / mysqlclient `connect()`,
 * `aiomysql.connect()` and its pools' `acquire()`, `asyncpg.connect()` and
 * `pool.acquire()` (released by `pool.release(conn)`), `aiosqlite.connect()`,
 * `pyodbc.connect()` and `oracledb.connect()`, plus project functions that return one
 * (`def get_conn(): return engine.connect()` makes every caller an acquirer), also
 * methods of your own classes reached through an instance (`target = Warehouse(dsn)` then
 * `target.connect()`, or `self.output().connect()` when `output()` returns one), calls
 * handed to a helper that runs them and returns their result (`conn =
 * with_retries(lambda: psycopg2.connect(dsn))`, `throttle(lambda: pymysql.connect(...))`), and
 * `resources:` from the config. The ownership rules of `session-not-closed` apply:
 * returned, stored on an attribute, handed to an exit stack, `contextlib.closing`, an
 * object constructor or a configured closer is not a leak; a project helper that closes
 * its argument releases it.
 *
 * A connection closed only on the normal path (`conn.close()` not in `finally` and not
 * in a closing `with`) is reported: it leaks when anything in between raises. So is
 * `with sqlite3.connect(path) as conn:` (and the same `with` on a `psycopg2` or `pyodbc`
 * connection): their context manager commits or rolls back, it does not close. A
 * A generator (a `@contextmanager` helper, a dependency) that yields a connection it never
 * closes even when resumed normally is reported too (`with sqlite3.connect(path) as conn:
 * yield conn`); one that closes it after the `yield` but not in `finally` is not. A
 * connection stored in a field (`self.conn = sqlite3.connect(path)`) is reported when no
 * method of the class closes it, hands it out or passes it on, no close path mentions
 * it, and the class has no base class that could.
 *
 * ## Why is this bad?
 * Each of these holds a server connection (or a pool slot) until closed. A missed
 * close on an error path exhausts the pool or the server's `max_connections`.
 *
 * ## Example
 * ```python
 * def export_rows(engine):
 *     conn = engine.connect()
 *     rows = conn.execute(text("SELECT * FROM rows")).all()
 *     conn.close()
 *     return rows
 * ```
 *
 * ## Use instead
 * ```python
 * def export_rows(engine):
 *     with engine.connect() as conn:
 *         rows = conn.execute(text("SELECT * FROM rows")).all()
 *     return rows
 * ```
 *
 * For `sqlite3`, keep the transaction and close the connection:
 * `with contextlib.closing(sqlite3.connect(path)) as conn, conn:`.
 *
 * ## Fix safety
 * Safe. Where the library model says the connection is a context manager that closes it
 * (`engine.connect()`, `psycopg.connect()`, PyMySQL, oracledb) and the call is not awaited,
 * the fix uses `with`; otherwise it wraps the rest of the block in `try`/`finally` with the
 * model's release (`await conn.close()`, `await pool.release(conn)`, `pool.putconn(conn)`,
 * `conn.close()`). `sqlite3`, `psycopg2` and `pyodbc` connections are never wrapped in
 * `with`: their `with` ends a transaction and leaves the connection open. Not offered
 * when another owner takes the connection on some path, the connection is used outside
 * the block or a multi-line string would be re-indented; unsafe when an existing release
 * elsewhere would run a second time.
 *
 * `with sqlite3.connect(path) as conn:` (or `psycopg2.connect(...)`) becomes
 * `with contextlib.closing(sqlite3.connect(path)) as conn, conn:`: the connection is closed
 * and the inner `with conn` still commits on success and rolls back on an exception
 * (`closing()` alone would drop that commit). The fix uses the file's `import contextlib`
 * or `from contextlib import closing`, else adds `import contextlib` to the file's
 * imports; only the `with` line (and that import) change. Safe for `sqlite3` and
 * `psycopg2`; unsafe for `pyodbc`. Not offered when the `with` has several items or no
 * `as` name, is an `async with`, or the name is rebound, returned (rows already read with
 * `fetchall()` may be), captured by a closure or used after the block.
 *
 * ## Options
 * `sessions.closers` adds callables that take ownership and close.
 */
import type { RawFinding, RuleMeta } from "../../types.ts";
import { finding, type PythonRule } from "../context.ts";
import { closingWithFix } from "../fixes.ts";
import { fieldLeaks, firstRelease, leakFix, leaks } from "../leaks.ts";

export const meta: RuleMeta = {
  id: "connection-not-closed",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "safe",
  summary: "A database connection is not closed or released on every path",
};

const libraryNames: Record<string, string> = {
  sqlalchemy: "SQLAlchemy",
  sqlite3: "sqlite3",
  psycopg2: "psycopg2",
  psycopg: "psycopg",
  psycopg_pool: "psycopg_pool",
  pymysql: "PyMySQL",
  mysqlclient: "MySQLdb",
  aiomysql: "aiomysql",
  asyncpg: "asyncpg",
  aiosqlite: "aiosqlite",
  pyodbc: "pyodbc",
  oracledb: "oracledb",
};

export const rule: PythonRule = {
  meta,
  check(ctx) {
    const findings: RawFinding[] = [];
    for (const leak of leaks(ctx, meta.id)) {
      const { site, verdict, report } = leak;
      const library = libraryNames[ctx.registry.types.get(site.type)?.library ?? ""] ?? "Database";
      const noun = site.facts.noun;
      let message: string;
      if (site.how === "with" && report.releases.length === 0) {
        message = `${library} ${noun} from \`${site.call.text}\`: its \`with\` block only commits or rolls back, it does not close the ${noun}`;
      } else if (!site.bind) {
        message = `${library} ${noun} from \`${site.call.text}\` is never bound to a name and never closed or released`;
      } else if (verdict.kind === "overwritten") {
        message = `${library} ${noun} \`${site.bind}\` is replaced (line ${verdict.at.start.line}) while still open: the previous one is never closed or released`;
      } else if (report.releases.length === 0) {
        message = `${library} ${noun} \`${site.bind}\` from \`${site.call.text}\` is never closed or released`;
      } else if (!verdict.normal) {
        message = `${library} ${noun} \`${site.bind}\` is closed only on the normal path (line ${firstRelease(report)}): it leaks when an exception is raised`;
      } else {
        message = `${library} ${noun} \`${site.bind}\` is not closed or released on every path (released at line ${firstRelease(report)} on some)`;
      }
      let fix = site.how === "with" ? closingWithFix(ctx, leak, ctx.registry.types.get(site.type)?.library) : leakFix(ctx, leak, noun);
      // `closing(None)` is no context manager: a helper that may return None makes the closing fix unsafe.
      if (fix && site.maybeNone === true) fix = { ...fix, safety: "unsafe" };
      findings.push(finding(meta.id, site.statement, message, fix));
    }
    // A generator that yields a connection and never closes it, even when its consumer resumes it.
    for (const { site, verdict } of leaks(ctx, meta.id, { yielded: true })) {
      if (verdict.kind !== "leak" || !verdict.normal) continue;
      const library = libraryNames[ctx.registry.types.get(site.type)?.library ?? ""] ?? "Database";
      const noun = site.facts.noun;
      const how = site.how === "with" ? `its \`with\` block only commits or rolls back, so the ${noun} it yields` : `the ${noun} it yields`;
      findings.push(finding(meta.id, site.statement, `${library} ${noun} from \`${site.call.text}\` is yielded but never closed: ${how} stays open after the consumer is done; close it in \`finally\``));
    }
    for (const { site, field, className } of fieldLeaks(ctx, meta.id)) {
      const release = site.facts.finallyRelease && !site.facts.finallyRelease.includes("{") ? site.facts.finallyRelease : "close";
      findings.push(
        finding(
          meta.id,
          site.statement,
          `Connection from \`${site.call.text}\` is stored in \`${field}\`, and no method of \`${className}\` ever closes it: give the class a \`close()\` (or \`__exit__\`) that calls \`${field}.${release}()\``,
        ),
      );
    }
    return findings;
  },
};
