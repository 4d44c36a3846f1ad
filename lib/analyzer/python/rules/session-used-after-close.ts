/**
 * # session-used-after-close
 *
 * ## What it does
 * Flags a name bound by `with ... as session` / `async with ... as session` (a session
 * factory, or any context manager whose call or name mentions a session) that is used
 * after its block has ended and before it is bound again.
 *
 * ## Why is this bad?
 * Leaving the block closed the session. SQLAlchemy lets a closed session start over: the
 * next query checks out a fresh connection that nothing will return to the pool. Seed
 * 002's status endpoint did this every 30 seconds, leaking a connection each time.
 *
 * ## Example
 * ```python
 * async with get_session() as session:
 *     flights = await session.scalar(count_flights)
 * recent = await session.scalar(count_recent)
 * ```
 *
 * ## Use instead
 * ```python
 * async with get_session() as session:
 *     flights = await session.scalar(count_flights)
 *     recent = await session.scalar(count_recent)
 * ```
 *
 * ## Fix safety
 * Safe. The fix moves the statements after the block, up to the last one that uses the
 * session, into the block. It is offered only when those statements directly follow the
 * block, do not rebind the name, and hold no multi-line string.
 *
 * ## Options
 * None. Severity is `error`: the code is wrong whatever else happens.
 */
import type { RawFinding, RuleMeta, TextEdit } from "../../types.ts";
import { classifyCall, finding, isReference, type PythonRule, type PythonRuleContext } from "../context.ts";
import { indentUnit } from "../ownership.ts";
import type { SyntaxNode } from "../parse.ts";

export const meta: RuleMeta = {
  id: "session-used-after-close",
  languages: ["python"],
  defaultSeverity: "error",
  fix: "safe",
  summary: "A session is used after its with block closed it",
};

function sessionAliases(ctx: PythonRuleContext, withStatement: SyntaxNode): string[] {
  const names: string[] = [];
  for (const item of withStatement.descendantsOfType("with_item")) {
    if (item.parent?.parent?.id !== withStatement.id) continue;
    const pattern = item.childForFieldName("value");
    if (pattern?.type !== "as_pattern") continue;
    const value = pattern.namedChildren[0];
    const alias = pattern.childForFieldName("alias")?.namedChildren[0];
    if (!value || alias?.type !== "identifier") continue;
    // The bound name must look like a session, or come straight from a session factory:
    // `async with create_items(session) as items` is not a session.
    const sessionish = /session|^sess$|^db$/i.test(alias.text) || (value.type === "call" && classifyCall(ctx, value)?.kind === "factory");
    // `with engine.begin() as conn` and file handles are not sessions.
    if (sessionish) names.push(alias.text);
  }
  return names;
}

/** Where `name` gets a new value inside the statement, or null. */
function bindingPoint(statement: SyntaxNode, name: string): number | null {
  let point: number | null = null;
  const earliest = (at: number) => {
    point = point === null ? at : Math.min(point, at);
  };
  for (const node of statement.type === "with_statement" || statement.type === "for_statement" || statement.type === "expression_statement"
    ? [statement, ...statement.descendantsOfType(["assignment", "for_statement", "as_pattern_target"])]
    : statement.descendantsOfType(["assignment", "for_statement", "as_pattern_target"])) {
    if (node.type === "as_pattern_target" && node.text === name) earliest(node.startIndex);
    // The right-hand side (or iterable) is evaluated before the name is rebound.
    if (node.type === "assignment" && node.childForFieldName("left")?.text === name) earliest(node.endIndex);
    if (node.type === "for_statement" && node.childForFieldName("left")?.text === name) earliest(node.childForFieldName("body")?.startIndex ?? node.endIndex);
  }
  return point;
}

function rebinds(statement: SyntaxNode, name: string): boolean {
  return bindingPoint(statement, name) !== null;
}

function firstUse(statement: SyntaxNode, name: string): SyntaxNode | null {
  const until = bindingPoint(statement, name) ?? Number.POSITIVE_INFINITY;
  return (
    statement.descendantsOfType("identifier").find((id) => {
      if (id.text !== name || !isReference(id) || id.startIndex >= until) return false;
      const parent = id.parent;
      if (parent?.type === "as_pattern_target") return false;
      // `async with session as session:` re-enters it: the new block manages it again.
      if (parent?.type === "with_item" || (parent?.type === "as_pattern" && parent.parent?.type === "with_item" && parent.namedChildren[0]?.id === id.id)) return false;
      if ((parent?.type === "assignment" || parent?.type === "for_statement") && parent.childForFieldName("left")?.id === id.id) return false;
      return true;
    }) ?? null
  );
}

export const rule: PythonRule = {
  meta,
  applies: (text) => /\bwith\b/.test(text) && /[Ss]ession/.test(text),
  check(ctx) {
    const findings: RawFinding[] = [];
    for (const withStatement of ctx.root.descendantsOfType("with_statement")) {
      const block = withStatement.parent;
      if (block?.type !== "block" && block?.type !== "module") continue;
      for (const name of sessionAliases(ctx, withStatement)) {
        const after = block.namedChildren.filter((s) => s.startIndex >= withStatement.endIndex && s.type !== "comment");
        let lastUse = -1;
        let use: SyntaxNode | null = null;
        for (let i = 0; i < after.length; i++) {
          const statement = after[i];
          // `x = session.get(...)` uses before it rebinds; a plain rebinding ends the search.
          const u = firstUse(statement, name);
          if (u) {
            use ??= u;
            lastUse = i;
          }
          if (rebinds(statement, name)) break;
        }
        if (!use) continue;
        const moved = after.slice(0, lastUse + 1);
        const fix = moveIntoBlock(ctx, withStatement, moved, name);
        findings.push(
          finding(
            meta.id,
            use,
            `\`${name}\` is used after its \`${withStatement.children[0]?.type === "async" ? "async with" : "with"}\` block (line ${withStatement.startPosition.row + 1}) closed it: the query opens a new connection that is never returned to the pool`,
            fix,
          ),
        );
      }
    }
    return findings;
  },
};

function moveIntoBlock(ctx: PythonRuleContext, withStatement: SyntaxNode, moved: SyntaxNode[], name: string) {
  if (moved.length === 0 || moved.some((s) => rebinds(s, name))) return null;
  const firstRow = withStatement.endPosition.row + 1;
  const lastRow = moved[moved.length - 1].endPosition.row;
  const multiline = withStatement.parent
    ?.descendantsOfType(["string", "concatenated_string"])
    .some((s) => s.startPosition.row !== s.endPosition.row && s.endPosition.row >= firstRow && s.startPosition.row <= lastRow);
  if (multiline) return null;
  const body = withStatement.childForFieldName("body");
  const withIndent = /^[ \t]*/.exec(ctx.lines[withStatement.startPosition.row])?.[0] ?? "";
  const bodyIndent = body ? (/^[ \t]*/.exec(ctx.lines[body.startPosition.row])?.[0] ?? "") : "";
  const unit = bodyIndent.startsWith(withIndent) && bodyIndent.length > withIndent.length ? bodyIndent.slice(withIndent.length) : indentUnit(ctx.lines);
  if (body && body.startPosition.row === withStatement.startPosition.row) return null;
  const edits: TextEdit[] = [];
  for (let row = firstRow; row <= lastRow; row++) {
    if (ctx.lines[row].trim() === "") continue;
    edits.push({ path: ctx.path, start: { line: row + 1, column: 1 }, end: { line: row + 1, column: 1 }, text: unit });
  }
  return { safety: "safe" as const, description: `Move the statements that use \`${name}\` into the \`with\` block`, edits };
}
