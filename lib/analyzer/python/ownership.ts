import type { Fix, TextEdit } from "../types.ts";
import { isConfiguredCloser, isReference, nodesOnMatchingLines, type PythonRuleContext } from "./context.ts";
import type { SyntaxNode } from "./parse.ts";

// Lifetime analysis for a resource bound to a local name inside a function:
// closed on every path (with / async with, close in finally), handed off (returned,
// yielded, stored on an attribute or in a container, given to an exit stack or a
// configured closer), closed only on the happy path, or never closed.

export type Acquisition = {
  name: string;
  /** The `name = ...` statement (an expression_statement). */
  statement: SyntaxNode;
  /** The call that created the resource (inside `await` when awaited). */
  call: SyntaxNode;
  awaited: boolean;
  block: SyntaxNode;
  fn: SyntaxNode;
};

export type Lifetime =
  | { status: "closed" }
  | { status: "transferred" }
  | { status: "happy-path-only"; closeLine: number }
  | { status: "never-closed" };

const handoffMethods = new Set([
  "enter_async_context",
  "enter_context",
  "push_async_callback",
  "push_async_exit",
  "callback",
  "push",
  "append",
  "add",
  "put",
  "put_nowait",
  "register",
  "setdefault",
  "extend",
  "insert",
]);

/**
 * `name = CALL` / `name = await CALL` statements inside functions. Candidates come from
 * one native `descendantsOfType` query per file: walking the tree from JavaScript node
 * by node costs more than parsing it.
 */
export function acquisitions(ctx: PythonRuleContext, lineFilter: RegExp, isResourceCall: (call: SyntaxNode) => boolean): Acquisition[] {
  const found: Acquisition[] = [];
  for (const assignment of nodesOnMatchingLines(ctx, lineFilter, "assignment")) {
    const statement = assignment.parent;
    if (statement?.type !== "expression_statement" || statement.parent?.type !== "block") continue;
    const left = assignment.childForFieldName("left");
    let right = assignment.childForFieldName("right");
    let awaited = false;
    if (right?.type === "await") {
      awaited = true;
      right = right.namedChildren[0] ?? null;
    }
    if (left?.type !== "identifier" || right?.type !== "call" || !isResourceCall(right)) continue;
    let fn: SyntaxNode | null = statement.parent;
    while (fn && fn.type !== "function_definition" && fn.type !== "class_definition" && fn.type !== "module") fn = fn.parent;
    if (fn?.type !== "function_definition") continue;
    found.push({ name: left.text, statement, call: right, awaited, block: statement.parent, fn });
  }
  return found;
}

function usesAfter(acq: Acquisition): SyntaxNode[] {
  const body = acq.fn.childForFieldName("body");
  if (!body) return [];
  const end = acq.statement.endIndex;
  return body.descendantsOfType("identifier").filter((id) => id.text === acq.name && id.startIndex >= end && isReference(id));
}

function inFinally(node: SyntaxNode, stopAt: SyntaxNode): boolean {
  for (let p = node.parent; p && p.id !== stopAt.id; p = p.parent) if (p.type === "finally_clause") return true;
  return false;
}

function inExcept(node: SyntaxNode, stopAt: SyntaxNode): boolean {
  for (let p = node.parent; p && p.id !== stopAt.id; p = p.parent) if (p.type === "except_clause") return true;
  return false;
}

function calleeName(call: SyntaxNode | null): string {
  return call?.childForFieldName("function")?.text ?? "";
}

function lastName(text: string): string {
  return text.slice(text.lastIndexOf(".") + 1);
}

/** Does this use of the name give the resource away? */
function isHandoff(ctx: PythonRuleContext, use: SyntaxNode): boolean {
  let node = use;
  // `stack.push_async_callback(session.close)`: the attribute is what gets handed over.
  if (node.parent?.type === "attribute" && node.parent.childForFieldName("object")?.id === node.id) {
    const attribute = node.parent;
    if (attribute.parent?.type === "argument_list") node = attribute;
    else return false;
  }
  for (let p = node.parent; p; node = p, p = p.parent) {
    switch (p.type) {
      case "return_statement":
      case "yield":
        return true;
      case "expression_list":
      case "tuple":
      case "list":
      case "set":
      case "dictionary":
      case "pair":
      case "parenthesized_expression":
      case "keyword_argument":
        continue;
      case "argument_list": {
        const call = p.parent;
        const callee = calleeName(call);
        if (handoffMethods.has(lastName(callee)) || isConfiguredCloser(ctx, callee)) return true;
        // `return Repository(session)` hands the session to an object the caller owns.
        if (call?.parent?.type === "return_statement") return true;
        return false;
      }
      case "assignment": {
        const left = p.childForFieldName("left");
        if (left && node.id === left.id) return false;
        // Stored on an attribute or in a container, or aliased: ownership is no longer local.
        return true;
      }
      case "subscript":
        return false;
      default:
        return false;
    }
  }
  return false;
}

/** `with s:` / `async with s as x:` */
function isWithTarget(use: SyntaxNode): boolean {
  const parent = use.parent;
  if (parent?.type === "with_item") return true;
  return parent?.type === "as_pattern" && parent.parent?.type === "with_item" && parent.namedChildren[0]?.id === use.id;
}

function closeCallOf(use: SyntaxNode, closeMethods: readonly string[]): SyntaxNode | null {
  const attribute = use.parent;
  if (attribute?.type !== "attribute" || attribute.childForFieldName("object")?.id !== use.id) return null;
  const method = attribute.childForFieldName("attribute")?.text ?? "";
  if (!closeMethods.includes(method)) return null;
  return attribute.parent?.type === "call" ? attribute.parent : null;
}

/** `pool.release(conn)` style: the resource is an argument of a releasing call. */
function releaseCallOf(use: SyntaxNode, releaseFunctions: readonly string[]): SyntaxNode | null {
  if (use.parent?.type !== "argument_list") return null;
  const call = use.parent.parent;
  return releaseFunctions.includes(lastName(calleeName(call))) ? call : null;
}

function statementOf(node: SyntaxNode, block: SyntaxNode): SyntaxNode | null {
  let n: SyntaxNode | null = node;
  while (n?.parent && n.parent.id !== block.id) n = n.parent;
  return n?.parent?.id === block.id ? n : null;
}

export function lifetime(
  ctx: PythonRuleContext,
  acq: Acquisition,
  closeMethods: readonly string[],
  releaseFunctions: readonly string[] = [],
): Lifetime {
  const uses = usesAfter(acq);
  const body = acq.fn.childForFieldName("body") ?? acq.fn;
  const closes: SyntaxNode[] = [];
  for (const use of uses) {
    if (isWithTarget(use)) return { status: "closed" };
    if (isHandoff(ctx, use)) return { status: "transferred" };
    const close = closeCallOf(use, closeMethods) ?? releaseCallOf(use, releaseFunctions);
    if (close) closes.push(close);
  }
  if (closes.length === 0) return { status: "never-closed" };
  if (closes.some((c) => inFinally(c, body))) return { status: "closed" };
  // Closed in an except clause and after it: every way out of the try closes.
  if (closes.some((c) => inExcept(c, body)) && closes.some((c) => !inExcept(c, body))) return { status: "closed" };
  const firstClose = closes[0];
  // Nothing that can raise or leave between the acquisition and the close: fine.
  const between = acq.block.namedChildren.filter((s) => s.startIndex >= acq.statement.endIndex && s.endIndex <= firstClose.startIndex);
  const closeStatement = statementOf(firstClose, acq.block);
  if (between.length === 0 && closeStatement) return { status: "closed" };
  return { status: "happy-path-only", closeLine: firstClose.startPosition.row + 1 };
}

// ---------- fixes that move the rest of a block under a new header ----------

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
};

/**
 * Move every statement after `acq.statement` in its block one indentation level in,
 * under a new header. Returns null (no fix) when the name is used outside that block,
 * rebound, or the moved code holds a multi-line string whose content would change.
 */
export function rewriteRestOfBlock(ctx: PythonRuleContext, acq: Acquisition, rewrite: BlockRewrite): TextEdit[] | null {
  const statements = acq.block.namedChildren.filter((s) => s.startIndex >= acq.statement.endIndex && s.type !== "comment");
  if (statements.length === 0) return null;
  const last = statements[statements.length - 1];
  const blockEnd = last.endIndex;
  const uses = usesAfter(acq);
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
  const unit = indentUnit(ctx.lines);
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

export function isPytestFixture(fn: SyntaxNode): boolean {
  const parent = fn.parent;
  return parent?.type === "decorated_definition" && parent.namedChildren.some((d) => d.type === "decorator" && /\bfixture\b/.test(d.text));
}
