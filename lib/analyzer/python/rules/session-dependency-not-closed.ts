/**
 * # session-dependency-not-closed
 *
 * ## What it does
 * Flags a generator (sync or async; the FastAPI/Starlette dependency style) that
 * creates a session from a session factory and yields it without a guaranteed close:
 * no `with`/`async with` around the `yield` and no `finally` that closes it. The check
 * follows every path of the generator, including the one where the consumer abandons
 * it at the `yield` (`GeneratorExit`, cancellation): an `except GeneratorExit:` path that
 * only calls `expunge_all()` does not close it, nor does a `close()` after the `yield`
 * outside `finally`. `@contextmanager` / `@asynccontextmanager` functions are judged the
 * same way; pytest fixtures are not (pytest always resumes them for teardown). A generator
 * that yields a session it did not open itself (`yield self._session`, a session taken from a
 * holder object) but cleans it up after the `yield` (`await self._session.remove()`,
 * `Holder.close()` on the object it came from) has taken that cleanup on: it is reported
 * when the cleanup is not in a `finally` around the `yield` (no automatic fix: where the
 * cleanup belongs is the code's own choice).
 *
 * ## Why is this bad?
 * When a client disconnects or a request is cancelled, the framework closes the
 * generator by raising `GeneratorExit` at the `yield`. Only a `finally` (or a context
 * manager) runs then; everything else is skipped and the connection leaks.
 *
 * ## Example
 * ```python
 * async def get_session_generator():
 *     session = async_session()
 *     try:
 *         yield session
 *     except GeneratorExit:
 *         session.expunge_all()
 * ```
 *
 * ## Use instead
 * ```python
 * async def get_session_generator():
 *     session = async_session()
 *     try:
 *         yield session
 *     except GeneratorExit:
 *         session.expunge_all()
 *     finally:
 *         await session.close()
 * ```
 *
 * ## Fix safety
 * Safe. The fix adds `finally: await session.close()` (`session.close()` in a sync
 * generator) to the `try` around the `yield`, or puts the close first in an existing
 * `finally` (before statements that could raise and skip it), or wraps the rest of the generator in `try`/`finally` when there is no `try`.
 * It is unsafe when the generator already closes the session on some path (the close in
 * `finally` would run a second time there), and absent when the session is handed to
 * another owner on some path or when the generator's indentation mixes tabs and spaces
 * (an added line could not match it).
 *
 * ## Options
 * `sessions.factories` and `resources:` add callables that return sessions.
 */
import type { Fix, RawFinding, RuleMeta, TextEdit } from "../../types.ts";
import { finding, type PythonRule, type PythonRuleContext } from "../context.ts";
import { functionIndentUnit, mixesTabsAndSpaces, rewriteRestOfBlock } from "../fixes.ts";
import { acquisitionOf, type Leak, leaks, releaseStatement } from "../leaks.ts";
import type { SyntaxNode } from "../parse.ts";

export const meta: RuleMeta = {
  id: "session-dependency-not-closed",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "safe",
  summary: "A generator dependency yields a session without closing it on every path",
};

function leading(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? "";
}

function fixFor(ctx: PythonRuleContext, leak: Leak, yieldNode: SyntaxNode): Fix | null {
  const { site, fn, report } = leak;
  const acq = acquisitionOf(site, fn);
  const close = releaseStatement(site, fn) ?? (site.bind ? `${fn.isAsync ? "await " : ""}${site.bind}.close()` : null);
  if (!acq || !close || report.transfers.length > 0) return null;
  // The added lines could not match indentation that mixes tabs and spaces.
  if (mixesTabsAndSpaces(ctx.lines, fn.fn.startPosition.row, fn.fn.endPosition.row)) return null;
  // A close that already runs on some path would run twice there.
  const safety: Fix["safety"] = report.releases.length > 0 ? "unsafe" : "safe";
  const description = `Close \`${acq.name}\` in a \`finally\` block so cancellation (GeneratorExit) cannot leak it`;
  const eol = ctx.lines[acq.statement.startPosition.row].endsWith("\r") ? "\r\n" : "\n";
  const unit = functionIndentUnit(ctx.lines, fn.fn);
  let tryStatement: SyntaxNode | null = null;
  for (let p = yieldNode.parent; p && p.id !== acq.block.id; p = p.parent) if (p.type === "try_statement") tryStatement = p;
  if (tryStatement && tryStatement.parent?.id === acq.block.id) {
    const indent = leading(ctx.lines[tryStatement.startPosition.row]);
    const finallyClause = tryStatement.namedChildren.find((c) => c.type === "finally_clause");
    if (finallyClause) {
      // First in the existing finally: its other statements may raise before a close placed after them.
      const block = finallyClause.namedChildren.find((c) => c.type === "block");
      const first = block?.namedChildren[0];
      if (!first || first.startPosition.row === finallyClause.startPosition.row) return null;
      const row = first.startPosition.row;
      const indent = leading(ctx.lines[row]);
      const edit: TextEdit = { path: ctx.path, start: { line: row + 1, column: 1 }, end: { line: row + 1, column: 1 }, text: `${indent}${close}${eol}` };
      return { safety, description, edits: [edit] };
    }
    const row = tryStatement.endPosition.row;
    const lineText = ctx.lines[row].replace(/\r$/, "");
    const edit: TextEdit = {
      path: ctx.path,
      start: { line: row + 1, column: lineText.length + 1 },
      end: { line: row + 1, column: lineText.length + 1 },
      text: `${eol}${indent}finally:${eol}${indent}${unit}${close}`,
    };
    return { safety, description, edits: [edit] };
  }
  const edits = rewriteRestOfBlock(ctx, acq, { header: null, opener: "try:", footer: [{ text: "finally:", extraIndent: 0 }, { text: close, extraIndent: 1 }], drop: [] });
  return edits ? { safety, description, edits } : null;
}

export const rule: PythonRule = {
  meta,
  check(ctx) {
    const findings: RawFinding[] = [];
    for (const leak of leaks(ctx, "session-not-closed", { yielded: true })) {
      const { site, fn } = leak;
      if (site.facts.noun !== "session") continue;
      const yieldNode = fn.yields.find((y) => y.sites.includes(site.id))?.node;
      if (!yieldNode) continue;
      const name = site.bind ?? site.call.text;
      if (site.adopted) {
        const release = leak.report.releases[0]?.start.line;
        const where = release ? ` (line ${release})` : "";
        const message = `Generator \`${fn.name}\` yields session \`${name}\` and cleans it up after the \`yield\`${where} outside \`finally\`: when the consumer raises or abandons the generator (a failed or cancelled request) the cleanup never runs`;
        findings.push(finding(meta.id, site.statement, message, null));
        continue;
      }
      const generatorExit = fn.fn.descendantsOfType("except_clause").some((e) => /GeneratorExit/.test(e.text));
      const message = generatorExit
        ? `Dependency \`${fn.name}\` yields session \`${name}\` but its \`except GeneratorExit\` path never closes it: cancelled requests leak a connection; close it in \`finally\``
        : `Dependency \`${fn.name}\` yields session \`${name}\` without closing it in \`finally\`: when the request ends or is cancelled the connection is not returned to the pool`;
      findings.push(finding(meta.id, site.statement, message, fixFor(ctx, leak, yieldNode)));
    }
    return findings;
  },
};
