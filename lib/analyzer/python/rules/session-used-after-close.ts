/**
 * # session-used-after-close
 *
 * ## What it does
 * Flags a session bound by `with ... as session` / `async with ... as session` (a session
 * factory, a context manager the project or a library model says yields a session, or
 * an unknown context manager bound to a name like `session`/`db`) that is used after its
 * block has ended on every path that reaches the use, before it is bound again. That
 * includes uses in the `except` of an enclosing `try` (the block ended when the error
 * left it), closures defined inside the block that run later (returned, stored, handed to
 * `create_task`, `call_later`, `BackgroundTasks.add_task`, a thread), and sessions handed
 * to such deferred calls. A lazy `Query` built on the session inside the block and returned
 * from it (`return session.query(User).filter(...)`) is reported too: the caller runs it
 * after the block closed the session.
 *
 * ## Why is this bad?
 * Leaving the block closed the session. SQLAlchemy lets a closed session start over: the
 * next query checks out a fresh connection that nothing will return to the pool: a
 * status endpoint polled every 30 seconds leaks a connection each time.
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
 * block, do not rebind the name, and hold no multi-line string. Uses in an `except` or in
 * deferred code get no fix. When the block also opens a transaction
 * (`with Session() as s, s.begin():`) the fix is unsafe: the moved statements would run
 * inside that transaction.
 *
 * ## Options
 * None. Severity is `error`: the code is wrong whatever else happens.
 */
import type { RawFinding, RuleMeta, TextEdit } from "../../types.ts";
import { finding, isReference, type PythonRule, type PythonRuleContext } from "../context.ts";
import { indentUnit } from "../fixes.ts";
import type { SiteInfo } from "../flow/lower.ts";
import type { SyntaxNode } from "../parse.ts";

export const meta: RuleMeta = {
  id: "session-used-after-close",
  languages: ["python"],
  defaultSeverity: "error",
  fix: "safe",
  summary: "A session is used after its with block closed it",
};

/** The identifier `name` at (or just inside) a use's position. */
function identifierAt(ctx: PythonRuleContext, line: number, column: number, name: string): SyntaxNode | null {
  const point = { row: line - 1, column: column - 1 };
  let node: SyntaxNode | null = ctx.root.descendantForPosition(point);
  while (node && node.type !== "identifier" && node.namedChildren.length > 0) node = node.namedChildren[0];
  if (node?.type === "identifier" && node.text === name) return node;
  return null;
}

export const rule: PythonRule = {
  meta,
  check(ctx) {
    const findings: RawFinding[] = [];
    for (const fn of ctx.functions()) {
      const uses = new Map<number, SyntaxNode[]>();
      const record = (site: SiteInfo, node: SyntaxNode | null) => {
        if (!node) return;
        const list = uses.get(site.id) ?? [];
        list.push(node);
        uses.set(site.id, list);
      };
      for (const use of fn.result.usesAfterRelease) {
        const site = fn.sites[use.site];
        if (!isManagedSession(site)) continue;
        record(site, identifierAt(ctx, use.use.start.line, use.use.start.column, site.bind as string));
      }
      for (const deferred of fn.deferredUses) {
        const site = fn.sites[deferred.site];
        if (!isManagedSession(site)) continue;
        let node: SyntaxNode | null = deferred.use;
        while (node && node.type !== "identifier" && node.namedChildren.length > 0) node = node.namedChildren[0];
        record(site, node);
      }
      for (const [id, nodes] of uses) {
        const site = fn.sites[id];
        const first = nodes.sort((a, b) => a.startIndex - b.startIndex)[0];
        const withStatement = site.statement;
        const name = site.bind as string;
        const fix = withStatement.type === "with_statement" ? moveIntoBlock(ctx, withStatement, name, first) : null;
        const form = withStatement.children[0]?.type === "async" ? "async with" : "with";
        const later = fn.deferredUses.some((d) => d.site === id);
        const message = later
          ? `\`${name}\` is used by code that runs after its \`${form}\` block (line ${withStatement.startPosition.row + 1}) closed it: the query opens a new connection that is never returned to the pool`
          : `\`${name}\` is used after its \`${form}\` block (line ${withStatement.startPosition.row + 1}) closed it: the query opens a new connection that is never returned to the pool`;
        findings.push(finding(meta.id, first, message, fix));
      }
      for (const site of fn.sites) {
        if (!isManagedSession(site) || site.statement.type !== "with_statement" || uses.has(site.id)) continue;
        const returned = lazyQueryReturned(site.statement, site.bind as string);
        if (!returned) continue;
        const form = site.statement.children[0]?.type === "async" ? "async with" : "with";
        findings.push(
          finding(
            meta.id,
            returned,
            `A query on \`${site.bind}\` is returned from inside its \`${form}\` block (line ${site.statement.startPosition.row + 1}): the caller runs it after the block closed the session, which opens a new connection that is never returned to the pool; return the rows (\`.all()\`) or give the caller the session`,
            null,
          ),
        );
      }
    }
    return findings;
  },
};

/** Calls that run a query and hand back rows or values: nothing lazy is left. */
const materialized = /\.(?:all|first|one|one_or_none|scalar|scalar_one|scalar_one_or_none|count|fetchall|fetchone|fetchmany|delete|update|exists|get)\(/;

/**
 * `with get_session() as session: q = session.query(User)...; return q`: a legacy `Query` is lazy, so
 * the caller iterates it on a session the block has closed. The return statement, or null.
 */
function lazyQueryReturned(withStatement: SyntaxNode, name: string): SyntaxNode | null {
  const body = withStatement.childForFieldName("body");
  if (!body || !body.text.includes(`${name}.query(`)) return null;
  const escaped = name.replace(/[^\w]/g, "");
  const direct = new RegExp(`^${escaped}\\.query\\(`);
  const derived = new Set<string>();
  const lazy = (node: SyntaxNode) => {
    const text = node.text.replace(/^await\s+/, "").trim();
    if (materialized.test(text)) return false;
    return direct.test(text) || node.descendantsOfType("identifier").some((id) => derived.has(id.text)) || (node.type === "identifier" && derived.has(node.text));
  };
  const inner = (node: SyntaxNode) => {
    for (let p = node.parent; p && p.id !== body.id; p = p.parent) if (p.type === "function_definition" || p.type === "lambda") return false;
    return true;
  };
  const assignments = body.descendantsOfType("assignment").filter(inner);
  for (let round = 0; round < 2; round++) {
    for (const a of assignments) {
      const left = a.childForFieldName("left");
      const right = a.childForFieldName("right");
      if (left?.type === "identifier" && right && lazy(right)) derived.add(left.text);
    }
  }
  for (const ret of body.descendantsOfType("return_statement").filter(inner)) {
    const value = ret.namedChildren[0];
    if (!value) continue;
    if ((value.type === "identifier" && derived.has(value.text)) || (value.type !== "identifier" && direct.test(value.text) && !materialized.test(value.text))) return ret;
  }
  return null;
}

function isManagedSession(site: SiteInfo | undefined): site is SiteInfo {
  return !!site && site.managed && site.bind !== null && (site.facts.noun === "session" || site.guessed);
}

/** Where `name` gets a new value inside the statement, or null. */
function bindingPoint(statement: SyntaxNode, name: string): number | null {
  let point: number | null = null;
  const earliest = (at: number) => {
    point = point === null ? at : Math.min(point, at);
  };
  for (const node of [statement, ...statement.descendantsOfType(["assignment", "for_statement", "as_pattern_target"])]) {
    if (node.type === "as_pattern_target" && node.text === name) earliest(node.startIndex);
    // The right-hand side (or iterable) is evaluated before the name is rebound.
    if (node.type === "assignment" && node.childForFieldName("left")?.text === name) earliest(node.endIndex);
    if (node.type === "for_statement" && node.childForFieldName("left")?.text === name) earliest(node.childForFieldName("body")?.startIndex ?? node.endIndex);
  }
  return point;
}

function usesIn(statement: SyntaxNode, name: string): boolean {
  const until = bindingPoint(statement, name) ?? Number.POSITIVE_INFINITY;
  return statement.descendantsOfType("identifier").some((id) => id.text === name && isReference(id) && id.startIndex < until);
}

/** Move the statements after the block, up to the last one using the session, into the block. */
function moveIntoBlock(ctx: PythonRuleContext, withStatement: SyntaxNode, name: string, firstUse: SyntaxNode) {
  const block = withStatement.parent;
  if (block?.type !== "block" && block?.type !== "module") return null;
  const after = block.namedChildren.filter((s) => s.startIndex >= withStatement.endIndex && s.type !== "comment");
  // The reported use must sit in one of those statements (not in an enclosing except or a closure).
  if (!after.some((s) => s.startIndex <= firstUse.startIndex && firstUse.endIndex <= s.endIndex)) return null;
  let lastUse = -1;
  for (let i = 0; i < after.length; i++) {
    if (usesIn(after[i], name)) lastUse = i;
    if (bindingPoint(after[i], name) !== null) break;
  }
  const moved = after.slice(0, lastUse + 1);
  if (moved.length === 0 || moved.some((s) => bindingPoint(s, name) !== null)) return null;
  if (moved.some((s) => s.descendantsOfType(["function_definition", "lambda"]).length > 0)) return null;
  const firstRow = withStatement.endPosition.row + 1;
  const lastRow = moved[moved.length - 1].endPosition.row;
  const multiline = block
    .descendantsOfType(["string", "concatenated_string"])
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
  // `with Session() as s, s.begin():` commits at the end of the block: moved statements would join the transaction.
  const items = withStatement.descendantsOfType("with_item").filter((i) => i.parent?.parent?.id === withStatement.id);
  const transactional = items.length > 1 || items.some((i) => /\.begin\(/.test(i.text));
  return { safety: transactional ? ("unsafe" as const) : ("safe" as const), description: `Move the statements that use \`${name}\` into the \`with\` block`, edits };
}

