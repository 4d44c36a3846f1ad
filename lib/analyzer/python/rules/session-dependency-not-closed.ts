/**
 * # session-dependency-not-closed
 *
 * ## What it does
 * Flags a generator (sync or async; the FastAPI/Starlette dependency style) that
 * creates a session from a session factory and yields it without a guaranteed close:
 * no `with`/`async with` around the `yield` and no `finally` that closes it. An
 * `except GeneratorExit:` path that only calls `expunge_all()` does not close it.
 *
 * ## Why is this bad?
 * When a client disconnects or a request is cancelled, the framework closes the
 * generator by raising `GeneratorExit` at the `yield`. Only a `finally` (or a context
 * manager) runs then; everything else is skipped and the connection leaks (seed 001).
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
 * generator) to the `try` around the `yield`, or appends the close to an existing
 * `finally`, or wraps the rest of the generator in `try`/`finally` when there is no `try`.
 *
 * ## Options
 * `sessions.factories` adds callables that return sessions.
 */
import type { RawFinding, RuleMeta, TextEdit } from "../../types.ts";
import { classifyCall, describeFunction, factoryCallLines, finding, type PythonRule, type PythonRuleContext } from "../context.ts";
import { type Acquisition, acquisitions, indentUnit, lifetime, rewriteRestOfBlock } from "../ownership.ts";
import type { SyntaxNode } from "../parse.ts";

export const meta: RuleMeta = {
  id: "session-dependency-not-closed",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "safe",
  summary: "A generator dependency yields a session without closing it on every path",
};

function yieldsName(fn: SyntaxNode, name: string): SyntaxNode | null {
  return fn.descendantsOfType("yield").find((y) => y.namedChildren[0]?.type === "identifier" && y.namedChildren[0].text === name) ?? null;
}

function closesInFinally(fn: SyntaxNode, name: string): boolean {
  return fn.descendantsOfType("finally_clause").some((f) => new RegExp(`\\b${name}\\.close\\(`).test(f.text));
}

function leading(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? "";
}

function fixFor(ctx: PythonRuleContext, acq: Acquisition, yieldNode: SyntaxNode, isAsync: boolean) {
  const close = `${isAsync ? "await " : ""}${acq.name}.close()`;
  const description = `Close \`${acq.name}\` in a \`finally\` block so cancellation (GeneratorExit) cannot leak it`;
  const eol = ctx.lines[acq.statement.startPosition.row].endsWith("\r") ? "\r\n" : "\n";
  const unit = indentUnit(ctx.lines);
  let tryStatement: SyntaxNode | null = null;
  for (let p = yieldNode.parent; p && p.id !== acq.block.id; p = p.parent) if (p.type === "try_statement") tryStatement = p;
  if (tryStatement && tryStatement.parent?.id === acq.block.id) {
    const indent = leading(ctx.lines[tryStatement.startPosition.row]);
    const finallyClause = tryStatement.namedChildren.find((c) => c.type === "finally_clause");
    if (finallyClause) {
      const block = finallyClause.namedChildren.find((c) => c.type === "block");
      const last = block?.namedChildren[block.namedChildren.length - 1];
      if (!last) return null;
      const row = last.endPosition.row;
      const lineText = ctx.lines[row].replace(/\r$/, "");
      const edit: TextEdit = { path: ctx.path, start: { line: row + 1, column: lineText.length + 1 }, end: { line: row + 1, column: lineText.length + 1 }, text: `${eol}${leading(ctx.lines[last.startPosition.row])}${close}` };
      return { safety: "safe" as const, description, edits: [edit] };
    }
    const row = tryStatement.endPosition.row;
    const lineText = ctx.lines[row].replace(/\r$/, "");
    const edit: TextEdit = {
      path: ctx.path,
      start: { line: row + 1, column: lineText.length + 1 },
      end: { line: row + 1, column: lineText.length + 1 },
      text: `${eol}${indent}finally:${eol}${indent}${unit}${close}`,
    };
    return { safety: "safe" as const, description, edits: [edit] };
  }
  const edits = rewriteRestOfBlock(ctx, acq, { header: null, opener: "try:", footer: [{ text: "finally:", extraIndent: 0 }, { text: close, extraIndent: 1 }], drop: [] });
  return edits ? { safety: "safe" as const, description, edits } : null;
}

export const rule: PythonRule = {
  meta,
  applies: (text) => /\byield\b/.test(text) && /[Ss]ession|factory|maker/.test(text),
  check(ctx) {
    const findings: RawFinding[] = [];
    // @contextmanager-style wrappers are judged the same way: the yield must be protected.
    for (const acq of acquisitions(ctx, factoryCallLines(ctx), (call) => classifyCall(ctx, call)?.kind === "factory")) {
      const fn = describeFunction(acq.fn);
      if (!fn.isGenerator) continue;
      const yieldNode = yieldsName(fn.node, acq.name);
      if (!yieldNode) continue;
      if (closesInFinally(fn.node, acq.name)) continue;
      const life = lifetime(ctx, acq, ["close"]);
      if (life.status === "closed") continue;
      const generatorExit = fn.node.descendantsOfType("except_clause").some((e) => /GeneratorExit/.test(e.text));
      const message = generatorExit
        ? `Dependency \`${fn.name}\` yields session \`${acq.name}\` but its \`except GeneratorExit\` path never closes it: cancelled requests leak a connection; close it in \`finally\``
        : `Dependency \`${fn.name}\` yields session \`${acq.name}\` without closing it in \`finally\`: when the request ends or is cancelled the connection is not returned to the pool`;
      findings.push(finding(meta.id, acq.statement, message, fixFor(ctx, acq, yieldNode, fn.isAsync)));
    }
    return findings;
  },
};
