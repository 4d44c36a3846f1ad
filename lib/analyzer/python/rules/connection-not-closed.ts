/**
 * # connection-not-closed
 *
 * ## What it does
 * Flags database connections bound to a local name and not closed or released on every
 * path: SQLAlchemy `engine.connect()` and `engine.raw_connection()`, `asyncpg.connect()`,
 * asyncpg `pool.acquire()`, `psycopg.connect()`, `psycopg2.connect()` and
 * `aiosqlite.connect()`. The ownership rules of `session-not-closed` apply: returned,
 * stored on an attribute, handed to an exit stack or a configured closer is not a leak.
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
 * ## Fix safety
 * Safe. Where the library's connection is a context manager that closes it
 * (`engine.connect()`, `psycopg.connect()`), the fix uses `with`; otherwise it wraps the
 * rest of the block in `try`/`finally` with the close (`await conn.close()`,
 * `await pool.release(conn)`, `conn.close()`). Not offered when the connection is used
 * outside the block or a multi-line string would be re-indented.
 *
 * ## Options
 * `sessions.closers` adds callables that take ownership and close.
 */
import type { RawFinding, RuleMeta } from "../../types.ts";
import { finding, type PythonRule } from "../context.ts";
import { acquisitions, isPytestFixture, lifetime, redundantCloses, rewriteRestOfBlock, wrapFix } from "../ownership.ts";
import type { SyntaxNode } from "../parse.ts";

export const meta: RuleMeta = {
  id: "connection-not-closed",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "safe",
  summary: "A database connection is not closed or released on every path",
};

type ConnectionKind = { library: string; closeMethods: string[]; releaseFunctions: string[]; withStyle: "with" | null; release: (name: string, receiver: string) => string };

function kindOf(call: SyntaxNode, awaited: boolean): ConnectionKind | null {
  const fn = call.childForFieldName("function");
  if (fn?.type !== "attribute") return null;
  const receiver = fn.childForFieldName("object")?.text ?? "";
  const method = fn.childForFieldName("attribute")?.text ?? "";
  const close = (n: string) => `${n}.close()`;
  if (method === "connect" && /engine/i.test(receiver) && !awaited) {
    return { library: "SQLAlchemy", closeMethods: ["close"], releaseFunctions: [], withStyle: /async/i.test(receiver) ? null : "with", release: close };
  }
  if (method === "raw_connection" && /engine/i.test(receiver)) return { library: "SQLAlchemy", closeMethods: ["close"], releaseFunctions: [], withStyle: null, release: close };
  if (method === "connect" && receiver === "asyncpg" && awaited) return { library: "asyncpg", closeMethods: ["close"], releaseFunctions: [], withStyle: null, release: (n) => `await ${n}.close()` };
  if (method === "acquire" && /pool/i.test(receiver) && awaited) {
    return { library: "asyncpg", closeMethods: ["release", "close"], releaseFunctions: ["release"], withStyle: null, release: (n, r) => `await ${r}.release(${n})` };
  }
  if (method === "connect" && receiver === "psycopg" && !awaited) return { library: "psycopg", closeMethods: ["close"], releaseFunctions: [], withStyle: "with", release: close };
  if (method === "connect" && receiver === "psycopg2") return { library: "psycopg2", closeMethods: ["close"], releaseFunctions: [], withStyle: null, release: close };
  if (method === "connect" && receiver === "aiosqlite" && awaited) return { library: "aiosqlite", closeMethods: ["close"], releaseFunctions: [], withStyle: null, release: (n) => `await ${n}.close()` };
  return null;
}

export const rule: PythonRule = {
  meta,
  applies: (text) => /\.(connect|raw_connection|acquire)\(/.test(text),
  check(ctx) {
    const findings: RawFinding[] = [];
    const candidates = acquisitions(ctx, /\.(connect|raw_connection|acquire)\(/, (call) => kindOf(call, call.parent?.type === "await") !== null);
    for (const acq of candidates) {
      const kind = kindOf(acq.call, acq.awaited);
      if (!kind) continue;
      const life = lifetime(ctx, acq, kind.closeMethods, kind.releaseFunctions);
      if (life.status === "closed" || life.status === "transferred") continue;
      // pytest runs a fixture's code after `yield` as teardown even when the test fails.
      if (life.status === "happy-path-only" && isPytestFixture(acq.fn)) continue;
      const receiver = acq.call.childForFieldName("function")?.childForFieldName("object")?.text ?? "";
      const releaseStatement = new RegExp(`^(await\\s+)?${receiver.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.release\\(\\s*${acq.name}\\s*\\)$`);
      const drop = [
        ...redundantCloses(acq, kind.closeMethods),
        ...acq.block.namedChildren.filter((st) => st.startIndex >= acq.statement.endIndex && releaseStatement.test(st.text.trim())),
      ];
      const edits =
        kind.withStyle === "with" && !acq.awaited
          ? rewriteRestOfBlock(ctx, acq, { header: `with ${acq.call.text} as ${acq.name}:`, footer: [], drop })
          : rewriteRestOfBlock(ctx, acq, {
              header: null,
              opener: "try:",
              footer: [
                { text: "finally:", extraIndent: 0 },
                { text: kind.release(acq.name, receiver), extraIndent: 1 },
              ],
              drop,
            });
      const fix = wrapFix(kind.withStyle === "with" ? `Use \`with ${acq.call.text} as ${acq.name}:\`` : `Close \`${acq.name}\` in a \`finally\` block`, edits);
      const message =
        life.status === "never-closed"
          ? `${kind.library} connection \`${acq.name}\` from \`${acq.call.text}\` is never closed or released`
          : `${kind.library} connection \`${acq.name}\` is closed only on the normal path (line ${life.closeLine}): it leaks when an exception is raised`;
      findings.push(finding(meta.id, acq.statement, message, fix));
    }
    return findings;
  },
};
