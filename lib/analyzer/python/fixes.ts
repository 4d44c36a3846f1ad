import type { Fix, TextEdit } from "../types.ts";
import { isReference, type PythonRuleContext } from "./context.ts";
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

