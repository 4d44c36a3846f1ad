import type { Fix, TextEdit } from "../types.ts";
import { isReference, type PythonRuleContext } from "./context.ts";
import type { Leak } from "./leaks.ts";
import { descendantsOf, type SyntaxNode } from "./parse.ts";

// Text edits shared by the lifecycle fixes: move the rest of a block under a new header
// (`with factory() as s:`), or wrap it in try/finally. Edits are minimal: the moved lines
// gain one indentation unit, every other line stays byte-identical, and nothing is
// offered when a multi-line string would be re-indented or the name escapes the block.

/** The acquisition a fix rewrites: `name = call` as a statement directly in `block`. */
export type Acquisition = {
  name: string;
  statement: SyntaxNode;
  call: SyntaxNode;
  block: SyntaxNode;
  fn: SyntaxNode;
};

export function usesAfter(acq: Acquisition): SyntaxNode[] {
  const body = acq.fn.childForFieldName("body");
  if (!body) return [];
  const end = acq.statement.endIndex;
  return descendantsOf(body, "identifier").filter((id) => id.text === acq.name && id.startIndex >= end && isReference(id));
}

function leadingWhitespace(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? "";
}

/** The file's indent unit, read from the first indented line (4 spaces when unknown). */
export function indentUnit(lines: readonly string[]): string {
  for (const line of lines) {
    const ws = leadingWhitespace(line);
    if (ws.length > 0 && line.trim() !== "" && !line.trim().startsWith("#")) return ws.startsWith("\t") ? "\t" : ws;
  }
  return "    ";
}

/** The indent unit of one function: its body's indentation beyond the `def` line's (the file's unit when unclear). */
export function functionIndentUnit(lines: readonly string[], fn: SyntaxNode): string {
  const first = fn.childForFieldName("body")?.namedChildren.find((c) => c.type !== "comment");
  if (first && first.startPosition.row > fn.startPosition.row) {
    const outer = leadingWhitespace(lines[fn.startPosition.row] ?? "");
    const inner = leadingWhitespace(lines[first.startPosition.row] ?? "");
    if (inner.startsWith(outer) && inner.length > outer.length) return inner.slice(outer.length);
  }
  return indentUnit(lines);
}

function hasMultilineString(node: SyntaxNode, fromRow: number, toRow: number): boolean {
  return node
    .descendantsOfType(["string", "concatenated_string"])
    .some((s) => s.startPosition.row !== s.endPosition.row && s.endPosition.row >= fromRow && s.startPosition.row <= toRow);
}

export type BlockRewrite = {
  /** Text that replaces the acquisition statement, e.g. `async with f() as s:`; null keeps it. */
  header: string | null;
  /** Lines appended after the moved statements at the block's indentation (e.g. `finally:`), without indentation. */
  footer: { text: string; extraIndent: number }[];
  /** Statements directly in the moved range to delete (redundant closes). */
  drop: SyntaxNode[];
  /** Extra line before the moved statements at block indentation (e.g. `try:`). */
  opener?: string;
  /**
   * The code's own release, when it is a statement of this block: the moved range ends
   * there (the release is dropped) and what follows it stays outside, so the fix never
   * holds the resource longer than the code did.
   */
  endAt?: SyntaxNode;
};

/**
 * Move every statement after `acq.statement` in its block one indentation level in,
 * under a new header. Returns null (no fix) when the name is used outside that block,
 * rebound, or the moved code holds a multi-line string whose content would change.
 */
/**
 * Does the indentation of rows fromRow..toRow mix tabs and spaces? Python compares such
 * indentation by its own tab rules, so a line added with one unit beside lines indented with
 * the other can raise TabError or land in another block: fixes are not offered there.
 */
export function mixesTabsAndSpaces(lines: readonly string[], fromRow: number, toRow: number): boolean {
  let tabs = false;
  let spaces = false;
  for (let row = Math.max(0, fromRow); row <= Math.min(lines.length - 1, toRow); row++) {
    const line = lines[row];
    if (line.trim() === "") continue;
    const ws = leadingWhitespace(line);
    if (ws.includes("\t")) tabs = true;
    if (ws.includes(" ")) spaces = true;
    if (tabs && spaces) return true;
  }
  return false;
}

export function rewriteRestOfBlock(ctx: PythonRuleContext, acq: Acquisition, rewrite: BlockRewrite): TextEdit[] | null {
  if (mixesTabsAndSpaces(ctx.lines, acq.fn.startPosition.row, acq.fn.endPosition.row)) return null;
  const endAt = rewrite.endAt;
  const statements = acq.block.namedChildren.filter((s) => s.startIndex >= acq.statement.endIndex && s.type !== "comment" && (!endAt || s.endIndex <= endAt.startIndex || s.id === endAt.id));
  if (statements.length === 0) return null;
  const last = statements[statements.length - 1];
  const blockEnd = last.endIndex;
  const inDropped = (u: SyntaxNode) => rewrite.drop.some((d) => d.startIndex <= u.startIndex && u.endIndex <= d.endIndex);
  const uses = usesAfter(acq).filter((u) => !inDropped(u));
  if (uses.some((u) => u.startIndex >= blockEnd)) return null;
  // Rebinding inside the moved code would change what the header manages.
  for (const u of uses) {
    const parent = u.parent;
    if (parent?.type === "assignment" && parent.childForFieldName("left")?.id === u.id) return null;
    if (parent?.type === "for_statement" && parent.childForFieldName("left")?.id === u.id) return null;
  }
  const firstRow = acq.statement.endPosition.row + 1;
  const lastRow = last.endPosition.row;
  if (hasMultilineString(acq.block, firstRow, lastRow)) return null;
  if (acq.statement.startPosition.row !== acq.statement.endPosition.row && rewrite.header !== null) return null;
  const statementLine = ctx.lines[acq.statement.startPosition.row];
  const indent = leadingWhitespace(statementLine);
  if (statementLine.slice(0, acq.statement.startPosition.column).trim() !== "") return null;
  // The tree must agree with the text's indentation: tree-sitter accepts some lines Python
  // rejects (an unexpected indent), and re-indenting those could move them into another block.
  if (statements.some((s) => s.startPosition.column !== acq.statement.startPosition.column || leadingWhitespace(ctx.lines[s.startPosition.row]) !== indent)) return null;
  const unit = functionIndentUnit(ctx.lines, acq.fn);
  const eol = ctx.lines[acq.statement.startPosition.row].endsWith("\r") ? "\r\n" : "\n";
  const edits: TextEdit[] = [];
  const path = ctx.path;
  const dropRows = new Set<number>();
  for (const node of rewrite.drop) for (let r = node.startPosition.row; r <= node.endPosition.row; r++) dropRows.add(r);
  if (rewrite.header !== null) {
    const row = acq.statement.startPosition.row;
    edits.push({
      path,
      start: { line: row + 1, column: acq.statement.startPosition.column + 1 },
      end: { line: row + 1, column: acq.statement.endPosition.column + 1 },
      text: rewrite.opener ? `${rewrite.header}${eol}${indent}${rewrite.opener}` : rewrite.header,
    });
  } else if (rewrite.opener) {
    const row = acq.statement.endPosition.row;
    const lineText = ctx.lines[row].replace(/\r$/, "");
    edits.push({ path, start: { line: row + 1, column: lineText.length + 1 }, end: { line: row + 1, column: lineText.length + 1 }, text: `${eol}${indent}${rewrite.opener}` });
  }
  for (let row = firstRow; row <= lastRow; row++) {
    if (dropRows.has(row)) continue;
    if (ctx.lines[row].trim() === "") continue;
    edits.push({ path, start: { line: row + 1, column: 1 }, end: { line: row + 1, column: 1 }, text: unit });
  }
  for (const node of rewrite.drop) {
    edits.push({ path, start: { line: node.startPosition.row + 1, column: 1 }, end: { line: node.endPosition.row + 2, column: 1 }, text: "" });
  }
  // A dropped close that was the only statement left would leave an empty block.
  const kept = statements.filter((s) => !rewrite.drop.some((d) => d.id === s.id));
  if (kept.length === 0) return null;
  if (rewrite.footer.length > 0) {
    const footerRow = kept[kept.length - 1].endPosition.row;
    const lastLine = ctx.lines[footerRow].replace(/\r$/, "");
    const text = rewrite.footer.map((f) => `${eol}${indent}${unit.repeat(f.extraIndent)}${f.text}`).join("");
    edits.push({ path, start: { line: footerRow + 1, column: lastLine.length + 1 }, end: { line: footerRow + 1, column: lastLine.length + 1 }, text });
  }
  return edits;
}

/** Top-level statements of the block after the acquisition that only close the resource. */
export function redundantCloses(acq: Acquisition, closeMethods: readonly string[]): SyntaxNode[] {
  return acq.block.namedChildren.filter((s) => {
    if (s.startIndex < acq.statement.endIndex || s.type !== "expression_statement") return false;
    let expression = s.namedChildren[0];
    if (expression?.type === "await") expression = expression.namedChildren[0];
    if (expression?.type !== "call") return false;
    const fn = expression.childForFieldName("function");
    return fn?.type === "attribute" && fn.childForFieldName("object")?.text === acq.name && closeMethods.includes(fn.childForFieldName("attribute")?.text ?? "");
  });
}

export function wrapFix(description: string, edits: TextEdit[] | null, safety: Fix["safety"] = "safe"): Fix | null {
  return edits ? { safety, description, edits } : null;
}


/**
 * `with sqlite3.connect(path) as conn:` (and the same `with` on psycopg2 / pyodbc
 * connections) only commits or rolls back at exit: the connection stays open. The fix
 * keeps that transaction and closes: `with contextlib.closing(sqlite3.connect(path)) as conn, conn:`
 * (`closing()` alone would drop the commit on success). It uses the file's own
 * `import contextlib` / `from contextlib import closing`, else adds `import contextlib` to
 * the file's top-level imports. Only the `with` line (and that import line) change. Null
 * when unsure: several items, no `as name`, an `async with`, a parenthesised item list, the
 * name rebound, returned, captured by a closure or used after the block.
 */
export function closingWithEdits(ctx: PythonRuleContext, statement: SyntaxNode, call: SyntaxNode, fn: SyntaxNode | null): { edits: TextEdit[]; header: string } | null {
  if (statement.type !== "with_statement" || statement.text.startsWith("async")) return null;
  const clause = statement.namedChildren.find((c) => c.type === "with_clause");
  const body = statement.childForFieldName("body");
  if (!clause || !body || clause.text.startsWith("(")) return null;
  const items = clause.namedChildren.filter((c) => c.type === "with_item");
  if (items.length !== 1 || clause.namedChildren.some((c) => c.type === "comment")) return null;
  const value = items[0].childForFieldName("value");
  if (value?.type !== "as_pattern") return null;
  const target = value.childForFieldName("alias");
  const alias = target?.namedChildren[0] ?? target;
  if (alias?.type !== "identifier" || value.namedChildren[0]?.id !== call.id) return null;
  const name = alias.text;
  // The name must mean this connection for the whole block and nowhere after it.
  const scope = fn?.childForFieldName("body") ?? statement.parent;
  if (!scope) return null;
  for (const id of descendantsOf(scope, "identifier")) {
    if (id.text !== name || !isReference(id) || id.id === alias.id) continue;
    if (id.startIndex >= statement.endIndex) return null;
    if (id.startIndex < body.startIndex) continue;
    const parent = id.parent;
    if ((parent?.type === "assignment" || parent?.type === "augmented_assignment" || parent?.type === "for_statement") && parent.childForFieldName("left")?.id === id.id) return null;
    if (parent?.type === "pattern_list" || parent?.type === "tuple_pattern" || parent?.type === "as_pattern_target") return null;
    for (let up = id.parent; up && up.id !== body.id; up = up.parent) {
      // `return conn.execute(...).fetchall()` hands back rows read before the block ends; anything else returned may need the connection.
      if (up.type === "return_statement" && !materializedReturn(up, name)) return null;
      if (up.type === "yield" || up.type === "lambda" || up.type === "function_definition" || up.type === "global_statement" || up.type === "nonlocal_statement") return null;
    }
  }
  const closing = closingName(ctx);
  const importEdit = closing ? null : contextlibImport(ctx);
  if (!closing && !importEdit) return null;
  const wrapper = closing ?? "contextlib.closing";
  const path = ctx.path;
  const at = (p: { row: number; column: number }) => ({ line: p.row + 1, column: p.column + 1 });
  const edits: TextEdit[] = [
    { path, start: at(call.startPosition), end: at(call.startPosition), text: `${wrapper}(` },
    { path, start: at(call.endPosition), end: at(call.endPosition), text: ")" },
    { path, start: at(alias.endPosition), end: at(alias.endPosition), text: `, ${name}` },
  ];
  if (importEdit) edits.unshift(importEdit);
  return { edits, header: `with ${wrapper}(${call.text}) as ${name}, ${name}:` };
}

/** `return <name>.execute(...).fetchall()` (or fetchone / fetchmany, optionally indexed): plain rows, read before the close. */
function materializedReturn(ret: SyntaxNode, name: string): boolean {
  const text = ret.text.replace(/^return\s+/, "").trim();
  if (!text.startsWith(`${name}.`)) return false;
  if (!/\.(fetchall|fetchone|fetchmany)\([^()]*\)(\[\d+\])?$/.test(text)) return false;
  // One call chain on the connection, nothing else referring to it.
  return text.split(name).length === 2;
}

/** How the file already names `contextlib.closing` at module level, or null. */
function closingName(ctx: PythonRuleContext): string | null {
  for (const st of ctx.tree.rootNode.namedChildren) {
    if (st.type === "import_statement") {
      for (const item of st.namedChildren) {
        if (item.type === "dotted_name" && item.text === "contextlib") return "contextlib.closing";
        if (item.type === "aliased_import" && item.childForFieldName("name")?.text === "contextlib") return `${item.childForFieldName("alias")?.text}.closing`;
      }
    }
    if (st.type === "import_from_statement" && st.childForFieldName("module_name")?.text === "contextlib") {
      for (const item of st.namedChildren.slice(1)) {
        if (item.type === "dotted_name" && item.text === "closing") return "closing";
        if (item.type === "aliased_import" && item.childForFieldName("name")?.text === "closing") return item.childForFieldName("alias")?.text ?? null;
      }
    }
  }
  return null;
}

/**
 * `import contextlib` on its own line among the file's top-level `import x` lines, in
 * alphabetical place (before the first later module of that group), or before the first
 * `from x import` when the file has no plain imports. Null when the file has neither at
 * module level, or the chosen line is not a plain one-statement line.
 */
function contextlibImport(ctx: PythonRuleContext): TextEdit | null {
  const top = ctx.tree.rootNode.namedChildren;
  if (top.some((st) => (st.type === "expression_statement" || st.type === "assignment") && /\bcontextlib\b/.test(st.text))) return null;
  const plain = top.filter((st) => st.type === "import_statement");
  const from = top.filter((st) => st.type === "import_from_statement" && st.childForFieldName("module_name")?.text !== "__future__");
  let before: SyntaxNode | null = null;
  let after: SyntaxNode | null = null;
  if (plain.length > 0) {
    // The first run of consecutive plain imports (one group).
    const group: SyntaxNode[] = [plain[0]];
    for (const st of plain.slice(1)) {
      if (st.startPosition.row !== group[group.length - 1].endPosition.row + 1) break;
      group.push(st);
    }
    before = group.find((st) => (st.namedChildren[0]?.text ?? "").toLowerCase() > "contextlib") ?? null;
    if (!before) after = group[group.length - 1];
  } else if (from.length > 0) {
    before = from[0];
  } else {
    return null;
  }
  const anchor = before ?? after;
  if (!before && anchor && anchor.startPosition.row + 1 >= ctx.lines.length) return null;
  if (!anchor || anchor.startPosition.column !== 0 || anchor.startPosition.row !== anchor.endPosition.row) return null;
  const line = ctx.lines[anchor.startPosition.row] ?? "";
  if (line.replace(/\r$/, "").trimEnd() !== anchor.text) return null;
  const eol = line.endsWith("\r") ? "\r\n" : "\n";
  const row = before ? anchor.startPosition.row : anchor.startPosition.row + 1;
  return { path: ctx.path, start: { line: row + 1, column: 1 }, end: { line: row + 1, column: 1 }, text: `import contextlib${eol}` };
}

/**
 * The fix for `with <connect()> as conn:` whose `with` leaves the connection open. Safe
 * for sqlite3 and psycopg2, whose before/after programs run in the tests against the real
 * library and database; unsafe for other libraries with such a `with` (pyodbc), not run here.
 */
export function closingWithFix(ctx: PythonRuleContext, leak: Leak, library: string | undefined): Fix | null {
  const { site, report, fn } = leak;
  if (site.how !== "with" || !site.facts.withKeepsOpen || site.awaited) return null;
  if (report.transfers.length > 0 || report.releases.length > 0) return null;
  const rewrite = closingWithEdits(ctx, site.statement, site.call, fn.fn);
  if (!rewrite) return null;
  const safety: Fix["safety"] = library === "sqlite3" || library === "psycopg2" ? "safe" : "unsafe";
  return { safety, description: `Use \`${rewrite.header.slice(0, -1)}\` so the ${site.facts.noun} is closed and its transaction still ends at the block`, edits: rewrite.edits };
}
