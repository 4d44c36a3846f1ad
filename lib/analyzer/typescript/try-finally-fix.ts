import { ts } from "ts-morph";
import type { Fix } from "../types.ts";
import { positionAt, referencesTo, walk } from "./ast.ts";
import { isReleaseCall, type ReleaseSpec } from "./lifecycle.ts";

// The fix shared by the release rules: wrap everything after the acquisition, to the
// end of its block, in `try { ... } finally { <release> }`, re-indented by the file's
// indent unit, dropping the happy-path release statements that become redundant. Any
// doubt (a release in a branch, hoisted declarations, code sharing the acquisition's
// line) means no fix: a double release throws in node-postgres.

export interface TryFinallyInput {
  path: string;
  text: string;
  sourceFile: ts.SourceFile;
  statement: ts.Statement;
  name: string;
  spec: ReleaseSpec;
  releaseStatement: string;
  description: string;
}

export function tryFinallyFix(input: TryFinallyInput): Fix | null {
  const { text, sourceFile, statement, name, spec } = input;
  const block = statement.parent;
  if (!ts.isBlock(block)) return null;
  const statements = block.statements;
  const index = statements.indexOf(statement);
  const rest = statements.slice(index + 1);
  if (rest.length === 0) return null;
  if (rest.some((item) => ts.isFunctionDeclaration(item) || ts.isClassDeclaration(item))) return null;
  // Releases must be plain top-level statements we can drop; anything else is unsure.
  const dropped: ts.Statement[] = [];
  for (const item of rest) {
    if (isReleaseStatement(item, name, spec)) {
      if (!aloneOnLine(text, item.getStart(sourceFile), item.getEnd())) return null;
      dropped.push(item);
      continue;
    }
    let unsure = false;
    walk(item, (child) => {
      if (isReleaseCall(child, name, spec)) unsure = true;
      // `return client.query(...)` without await: the finally would release the client
      // before the query settles.
      if (ts.isReturnStatement(child) && child.expression && returnsPendingUse(child.expression, name)) unsure = true;
      return !unsure && !ts.isFunctionLike(child);
    });
    if (ts.isReturnStatement(item) && item.expression && returnsPendingUse(item.expression, name)) unsure = true;
    if (unsure) return null;
  }
  const newline = text.includes("\r\n") ? "\r\n" : "\n";
  const afterStatement = text.indexOf("\n", statement.getEnd());
  if (afterStatement < 0) return null;
  const trailing = text.slice(statement.getEnd(), afterStatement).trim();
  if (trailing !== "" && !trailing.startsWith("//")) return null;
  const from = afterStatement + 1;
  const last = rest[rest.length - 1];
  const to = last.getEnd();
  if (from > rest[0].getStart(sourceFile)) return null;

  const baseIndent = indentOfLine(text, statement.getStart(sourceFile));
  const unit = indentUnit(text, block, sourceFile, baseIndent);
  const frozen = templateLines(sourceFile, from, to);
  const droppedRanges = dropped.map((item) => lineSpan(text, item.getStart(sourceFile), item.getEnd()));

  const lines: string[] = [];
  let lineStart = from;
  while (lineStart <= to) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd < 0 || lineEnd > to) lineEnd = to;
    const raw = text.slice(lineStart, lineEnd).replace(/\r$/, "");
    const isDropped = droppedRanges.some(([start, end]) => lineStart >= start && lineStart < end);
    if (!isDropped) {
      if (frozen.has(lineStart) || raw.trim() === "") lines.push(raw.trim() === "" ? "" : raw);
      else lines.push(unit + raw);
    }
    if (lineEnd >= to) break;
    lineStart = lineEnd + 1;
  }
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0) return null;
  const replacement = [
    `${baseIndent}try {`,
    ...lines,
    `${baseIndent}} finally {`,
    `${baseIndent}${unit}${input.releaseStatement}`,
    `${baseIndent}}`,
  ].join(newline);
  return {
    safety: "safe",
    description: input.description,
    edits: [{ path: input.path, start: positionAt(sourceFile, from), end: positionAt(sourceFile, to), text: replacement }],
  };
}

function returnsPendingUse(expression: ts.Expression, name: string): boolean {
  if (ts.isAwaitExpression(expression)) return false;
  return referencesTo(expression, name).length > 0;
}

/**
 * `client.release();` / `await queryRunner.release();` on its own line: the statement the
 * fix moves into `finally`. A release through a helper (`releaseClient(client)`) is not
 * dropped: the helper may do more than release, so such code gets no fix.
 */
function isReleaseStatement(statement: ts.Statement, name: string, spec: ReleaseSpec): boolean {
  if (!ts.isExpressionStatement(statement)) return false;
  let expression = statement.expression;
  if (ts.isAwaitExpression(expression)) expression = expression.expression;
  if (ts.isVoidExpression(expression)) expression = expression.expression;
  if (!isReleaseCall(expression, name, spec) || !ts.isCallExpression(expression)) return false;
  const callee = expression.expression;
  if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) {
    if (callee.expression.text === name) return spec.methods.has(callee.name.text);
    return spec.argumentMethods.has(callee.name.text);
  }
  return false;
}

function indentOfLine(text: string, offset: number): string {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const match = /^[ \t]*/.exec(text.slice(lineStart, offset));
  return match ? match[0] : "";
}

/** The file's indent unit, measured between the block's line and its statements. */
function indentUnit(text: string, block: ts.Block, sourceFile: ts.SourceFile, base: string): string {
  const outer = indentOfLine(text, block.getStart(sourceFile));
  if (base.startsWith(outer) && base.length > outer.length) return base.slice(outer.length);
  const match = /\n([ \t]+)\S/.exec(text);
  if (match?.[1].startsWith("\t")) return "\t";
  return match && match[1].length <= 4 ? match[1] : "  ";
}

function aloneOnLine(text: string, start: number, end: number): boolean {
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  let lineEnd = text.indexOf("\n", end);
  if (lineEnd < 0) lineEnd = text.length;
  return text.slice(lineStart, start).trim() === "" && text.slice(end, lineEnd).trim() === "";
}

/** Start offsets of lines that begin inside a multi-line template literal (never re-indented). */
function templateLines(sourceFile: ts.SourceFile, from: number, to: number): Set<number> {
  const text = sourceFile.text;
  const starts = new Set<number>();
  walk(sourceFile, (node) => {
    if (node.getEnd() < from || node.pos > to) return false;
    if (ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) {
      const start = node.getStart(sourceFile);
      for (let i = text.indexOf("\n", start); i >= 0 && i < node.getEnd(); i = text.indexOf("\n", i + 1)) {
        starts.add(i + 1);
      }
    }
    return true;
  });
  return starts;
}

/** [start of the first line, start of the line after the last] of a statement. */
function lineSpan(text: string, start: number, end: number): [number, number] {
  const first = text.lastIndexOf("\n", start - 1) + 1;
  const next = text.indexOf("\n", end);
  return [first, next < 0 ? text.length : next + 1];
}
