import { ts } from "ts-morph";
import type { Span } from "../flow/graph.ts";
import type { Fix } from "../types.ts";
import { enclosingFunction, positionAt, referencesTo, unwrapTypes, walk } from "./ast.ts";

// The fix shared by the release rules: wrap the statements that use the resource (from
// the one after the acquisition to the last one that needs it) in
// `try { ... } finally { <release> }`, dropping the happy-path release statements that
// become redundant. Only the moved lines are re-indented, by the file's own indent unit;
// the `finally` line follows the file's semicolon style; every other line stays
// byte-identical. Any doubt (a release that is not a plain statement of that block, a
// hoisted declaration, code sharing the acquisition's line) means no fix: a double
// release throws in node-postgres.

export interface TryFinallyInput {
  path: string;
  text: string;
  sourceFile: ts.SourceFile;
  /** The `const x = <acquisition>` statement. */
  statement: ts.VariableStatement;
  name: string;
  /** Where the dataflow saw the value released (on any path). */
  releases: readonly Span[];
  /** The release call for `finally`, without a trailing semicolon (`client.release()`). */
  releaseStatement: string;
  description: string;
  /**
   * Accept releases under a guard the code already uses (`if (!this.queryRunner) await
   * qr.release()`): the whole `if` moves into `finally`, so the same condition still decides.
   * Required for a value this function only sometimes owns (`this.queryRunner ??
   * ds.createQueryRunner()`), where an unguarded release would free the caller's runner.
   */
  guarded?: "allowed" | "required";
}

export function tryFinallyFix(input: TryFinallyInput): Fix | null {
  const { text, sourceFile, statement, name } = input;
  const block = statement.parent;
  if (!ts.isBlock(block)) return null;
  const statements = block.statements;
  const index = statements.indexOf(statement);
  const rest = statements.slice(index + 1);
  if (rest.length === 0) return null;
  if (rest.some((item) => ts.isFunctionDeclaration(item) || ts.isClassDeclaration(item))) return null;

  // Every release must be a plain top-level statement of the rest of the block: those move into finally.
  const dropped = new Set<ts.Statement>();
  const guards = new Set<ts.Statement>();
  for (const release of input.releases) {
    const holder = rest.find((item) => contains(sourceFile, item, release));
    if (!holder) return null;
    if (input.guarded && ts.isIfStatement(holder) && guardedRelease(sourceFile, holder, release)) guards.add(holder);
    else if (input.guarded === "required" || !isPlainReleaseStatement(sourceFile, holder, release)) return null;
    if (!aloneOnLine(text, holder.getStart(sourceFile), holder.getEnd())) return null;
    dropped.add(holder);
  }
  if (input.guarded === "required" && guards.size === 0) return null;
  // A guard must mean in `finally` what it meant where it stood: nothing in the block assigns
  // what it reads.
  for (const guard of guards) {
    const read = guardNames((guard as ts.IfStatement).expression);
    if (!read) return null;
    if (rest.some((item) => read.names.some((n) => assignsTo(item, n)) || read.fields.some((f) => assignsField(item, f)))) return null;
  }

  // The wrapped range: up to the last statement that needs the resource, or to the end of
  // the block when a declaration inside the range is used after it.
  let last = -1;
  rest.forEach((item, i) => {
    if (dropped.has(item) || referencesTo(item, name).length > 0) last = i;
  });
  if (last < 0) return null;
  // Safe by proof only when every name in the finally still means the acquired value: a
  // reassignment (`await qr.release(); qr = ds.createQueryRunner()`) would make the finally
  // release the new value while the dropped release no longer frees the first one.
  if (rest.some((item) => assignsTo(item, name))) return null;
  // A dropped release must be the last use of the value in the block: a use after it (or a
  // second release) means the code's own order is not what the finally would keep.
  for (const item of dropped) {
    const at = rest.indexOf(item);
    if (rest.slice(at + 1).some((later) => referencesTo(later, name).length > 0)) return null;
  }
  const declared = new Set<string>();
  for (const item of rest.slice(0, last + 1)) {
    if (ts.isVariableStatement(item)) for (const d of item.declarationList.declarations) collectNames(d.name, declared);
  }
  if ([...declared].some((declaredName) => rest.slice(last + 1).some((item) => referencesTo(item, declaredName).length > 0))) last = rest.length - 1;
  const wrapped = rest.slice(0, last + 1);
  if (wrapped.every((item) => dropped.has(item))) return null;

  // Locals built from the value (`const repo = new Repo(client)`, `const pending = client.query(q)`):
  // returning one of them unawaited leaves the value in use after the finally, too.
  const related = new Set<string>([name]);
  for (const item of wrapped) {
    if (!ts.isVariableStatement(item)) continue;
    for (const d of item.declarationList.declarations) {
      // An awaited initializer is settled data (`const { rows } = await client.query(q)`).
      const init = d.initializer ? unwrapTypes(d.initializer) : null;
      if (init && !ts.isAwaitExpression(init) && [...related].some((n) => referencesTo(init, n).length > 0)) collectNames(d.name, related);
    }
  }
  const owner = enclosingFunction(statement);
  const isAsyncOwner = !!owner && (ts.getCombinedModifierFlags(owner as ts.Declaration) & ts.ModifierFlags.Async) !== 0;
  for (const item of wrapped) {
    if (dropped.has(item)) continue;
    let unsure = false;
    // `return client.query(...)` without await: the finally would release the client
    // before the query settles.
    const check = (child: ts.Node): boolean => {
      if (ts.isReturnStatement(child) && child.expression && [...related].some((n) => returnsPendingUse(child.expression as ts.Expression, n))) unsure = true;
      // A callback that may run after this function returns (`collection.find(q, { session })
      // .toArray((err, docs) => ...)`): the finally would release before it runs. In code that
      // is not async any callback is such a continuation; in async code one that uses the value.
      if (ts.isFunctionLike(child) && ts.isCallExpression(child.parent) && pendingCallback(child, name, isAsyncOwner)) unsure = true;
      return !unsure && !ts.isFunctionLike(child);
    };
    if (check(item)) walk(item, check);
    if (unsure) return null;
  }

  const newline = text.includes("\r\n") ? "\r\n" : "\n";
  const afterStatement = text.indexOf("\n", statement.getEnd());
  if (afterStatement < 0) return null;
  const trailing = text.slice(statement.getEnd(), afterStatement).trim();
  if (trailing !== "" && !trailing.startsWith("//")) return null;
  const from = afterStatement + 1;
  const to = wrapped[wrapped.length - 1].getEnd();
  if (from > wrapped[0].getStart(sourceFile)) return null;

  const baseIndent = indentOfLine(text, statement.getStart(sourceFile));
  const unit = indentUnit(text, block, sourceFile, baseIndent);
  const frozen = templateLines(sourceFile, from, to);
  // A guarded release moves with the comment lines right above it (`// if we created it, release it`).
  const startOf = (item: ts.Statement) => (guards.has(item) ? commentedStart(text, item.getStart(sourceFile)) : item.getStart(sourceFile));
  const droppedRanges = [...dropped].map((item) => lineSpan(text, startOf(item), item.getEnd()));
  const semicolon = usesSemicolons(sourceFile, statement) ? ";" : "";

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
  // The finally calls the release the code already uses (`releaseClient(client)` stays a
  // call of the helper); two different ones: unsure which, no fix.
  const existing = new Set([...dropped].map((item) => item.getText(sourceFile).trim().replace(/;$/, "")));
  if (existing.size > 1) return null;
  const release = existing.size === 1 ? [...existing][0] : input.releaseStatement;
  let finallyLines = [`${baseIndent}${unit}${release}${semicolon}`];
  if (guards.size > 0) {
    // The guarded release as the code wrote it (its own semicolons), one level deeper.
    const [guard] = [...guards];
    const guardIndent = indentOfLine(text, guard.getStart(sourceFile));
    if (guardIndent !== baseIndent) return null;
    finallyLines = text
      .slice(startOf(guard), guard.getEnd())
      .split("\n")
      .map((line) => line.replace(/\r$/, ""))
      .map((line, i) => (i === 0 ? `${baseIndent}${unit}${line}` : line.trim() === "" ? "" : `${unit}${line}`));
  }
  const replacement = [`${baseIndent}try {`, ...lines, `${baseIndent}} finally {`, ...finallyLines, `${baseIndent}}`].join(newline);
  return {
    safety: "safe",
    description: input.description,
    edits: [{ path: input.path, start: positionAt(sourceFile, from), end: positionAt(sourceFile, to), text: replacement }],
  };
}

/** Where the `//` comment lines directly above the statement at `start` begin (or `start`). */
function commentedStart(text: string, start: number): number {
  let begin = start;
  for (;;) {
    const lineStart = text.lastIndexOf("\n", begin - 1) + 1;
    if (lineStart === 0) return begin;
    const previousStart = text.lastIndexOf("\n", lineStart - 2) + 1;
    const previous = text.slice(previousStart, lineStart - 1).trim();
    if (!previous.startsWith("//")) return begin;
    begin = previousStart + (text.slice(previousStart, lineStart).length - text.slice(previousStart, lineStart).trimStart().length);
  }
}

/** `if (<guard>) <release>` / `if (<guard>) { <release> }` with no else: a release under the code's own condition. */
function guardedRelease(sourceFile: ts.SourceFile, statement: ts.IfStatement, release: Span): boolean {
  if (statement.elseStatement) return false;
  let body = statement.thenStatement;
  if (ts.isBlock(body)) {
    if (body.statements.length !== 1) return false;
    body = body.statements[0];
  }
  return isPlainReleaseStatement(sourceFile, body, release);
}

/**
 * What a side-effect-free guard reads: `!this.queryRunner`, `!queryRunner`, `qr !== this.qr`,
 * `shouldRelease && !external`. Null for anything that calls, assigns or computes.
 */
function guardNames(expression: ts.Expression): { names: string[]; fields: string[] } | null {
  const names: string[] = [];
  const fields: string[] = [];
  const visit = (node: ts.Expression): boolean => {
    if (ts.isParenthesizedExpression(node)) return visit(node.expression);
    if (ts.isIdentifier(node)) {
      if (node.text !== "undefined") names.push(node.text);
      return true;
    }
    if (node.kind === ts.SyntaxKind.NullKeyword || node.kind === ts.SyntaxKind.TrueKeyword || node.kind === ts.SyntaxKind.FalseKeyword) return true;
    if (ts.isPropertyAccessExpression(node) && node.expression.kind === ts.SyntaxKind.ThisKeyword && ts.isIdentifier(node.name)) {
      fields.push(node.name.text);
      return true;
    }
    if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) return visit(node.operand);
    if (ts.isBinaryExpression(node)) {
      const op = node.operatorToken.kind;
      const comparison = [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken, ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken];
      return comparison.includes(op) && visit(node.left) && visit(node.right);
    }
    return false;
  };
  return visit(expression) ? { names, fields } : null;
}

/** Does `node` assign `this.<field>`? */
function assignsField(node: ts.Node, field: string): boolean {
  let found = false;
  walk(node, (child) => {
    if (found) return false;
    if (
      ts.isBinaryExpression(child) &&
      child.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
      child.operatorToken.kind <= ts.SyntaxKind.LastAssignment &&
      ts.isPropertyAccessExpression(child.left) &&
      child.left.expression.kind === ts.SyntaxKind.ThisKeyword &&
      child.left.name.text === field
    )
      found = true;
    return !found;
  });
  return found;
}

/** Does `node` assign to `name` (`name = ...`, `name ??= ...`, `[name] = ...`, `name++`), nested functions included? */
export function assignsTo(node: ts.Node, name: string): boolean {
  let found = false;
  const isName = (target: ts.Node): boolean => {
    if (ts.isParenthesizedExpression(target)) return isName(target.expression);
    if (ts.isIdentifier(target)) return target.text === name;
    if (ts.isArrayLiteralExpression(target)) return target.elements.some((element) => isName(ts.isSpreadElement(element) ? element.expression : element));
    if (ts.isObjectLiteralExpression(target)) {
      return target.properties.some((property) => {
        if (ts.isShorthandPropertyAssignment(property)) return property.name.text === name;
        if (ts.isPropertyAssignment(property)) return isName(property.initializer);
        if (ts.isSpreadAssignment(property)) return isName(property.expression);
        return false;
      });
    }
    if (ts.isBinaryExpression(target) && target.operatorToken.kind === ts.SyntaxKind.EqualsToken) return isName(target.left);
    return false;
  };
  const visit = (child: ts.Node): boolean => {
    if (found) return false;
    if (ts.isBinaryExpression(child) && child.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && child.operatorToken.kind <= ts.SyntaxKind.LastAssignment && isName(child.left)) found = true;
    if ((ts.isPrefixUnaryExpression(child) || ts.isPostfixUnaryExpression(child)) && (child.operator === ts.SyntaxKind.PlusPlusToken || child.operator === ts.SyntaxKind.MinusMinusToken) && isName(child.operand)) found = true;
    if ((ts.isForOfStatement(child) || ts.isForInStatement(child)) && !ts.isVariableDeclarationList(child.initializer) && isName(child.initializer)) found = true;
    return !found;
  };
  if (visit(node)) walk(node, visit);
  return found;
}

export function collectNames(name: ts.BindingName, into: Set<string>): void {
  if (ts.isIdentifier(name)) into.add(name.text);
  else for (const element of name.elements) if (!ts.isOmittedExpression(element)) collectNames(element.name, into);
}

/** The file's style: does the acquisition statement (or, failing that, most statements) end with a semicolon? */
export function usesSemicolons(sourceFile: ts.SourceFile, statement: ts.Statement): boolean {
  return sourceFile.text.slice(statement.getStart(sourceFile), statement.getEnd()).trimEnd().endsWith(";");
}

export function contains(sourceFile: ts.SourceFile, node: ts.Node, span: Span): boolean {
  const start = positionAt(sourceFile, node.getStart(sourceFile));
  const end = positionAt(sourceFile, node.getEnd());
  const after = (a: { line: number; column: number }, b: { line: number; column: number }) => a.line > b.line || (a.line === b.line && a.column >= b.column);
  return after(span.start, start) && after(end, span.end);
}

/** `client.release();`, `await queryRunner.release();`, `pool.release(conn);`: the release call is the whole statement. */
export function isPlainReleaseStatement(sourceFile: ts.SourceFile, statement: ts.Statement, release: Span): boolean {
  if (!ts.isExpressionStatement(statement)) return false;
  let expression = statement.expression;
  if (ts.isAwaitExpression(expression)) expression = expression.expression;
  if (ts.isVoidExpression(expression)) expression = expression.expression;
  if (!ts.isCallExpression(expression)) return false;
  const start = positionAt(sourceFile, expression.getStart(sourceFile));
  const end = positionAt(sourceFile, expression.getEnd());
  return start.line === release.start.line && start.column === release.start.column && end.line === release.end.line && end.column === release.end.column;
}

/** Calls that run their callback before returning. */
const SYNCHRONOUS_CALLBACKS = new Set(["forEach", "map", "filter", "reduce", "some", "every", "find", "findIndex", "flatMap", "sort"]);

function pendingCallback(fn: ts.Node, name: string, isAsyncOwner: boolean): boolean {
  const call = fn.parent as ts.CallExpression;
  const callee = call.expression;
  if (ts.isPropertyAccessExpression(callee) && SYNCHRONOUS_CALLBACKS.has(callee.name.text)) return false;
  // `await run(async () => ...)`: settled before the finally.
  let outer: ts.Node = call;
  while (ts.isParenthesizedExpression(outer.parent)) outer = outer.parent;
  if (ts.isAwaitExpression(outer.parent)) return false;
  return !isAsyncOwner || referencesTo(fn, name).length > 0;
}

function returnsPendingUse(expression: ts.Expression, name: string): boolean {
  if (ts.isAwaitExpression(expression)) return false;
  return referencesTo(expression, name).length > 0;
}

export function indentOfLine(text: string, offset: number): string {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const match = /^[ \t]*/.exec(text.slice(lineStart, offset));
  return match ? match[0] : "";
}

/** The file's indent unit, measured between the block's line and its statements. */
export function indentUnit(text: string, block: ts.Block, sourceFile: ts.SourceFile, base: string): string {
  const outer = indentOfLine(text, block.getStart(sourceFile));
  if (base.startsWith(outer) && base.length > outer.length) return base.slice(outer.length);
  const match = /\n([ \t]+)\S/.exec(text);
  if (match?.[1].startsWith("\t")) return "\t";
  return match && match[1].length <= 4 ? match[1] : "  ";
}

export function aloneOnLine(text: string, start: number, end: number): boolean {
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  let lineEnd = text.indexOf("\n", end);
  if (lineEnd < 0) lineEnd = text.length;
  return text.slice(lineStart, start).trim() === "" && text.slice(end, lineEnd).trim() === "";
}

/** Start offsets of lines that begin inside a multi-line template literal (never re-indented). */
export function templateLines(sourceFile: ts.SourceFile, from: number, to: number): Set<number> {
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
export function lineSpan(text: string, start: number, end: number): [number, number] {
  const first = text.lastIndexOf("\n", start - 1) + 1;
  const next = text.indexOf("\n", end);
  return [first, next < 0 ? text.length : next + 1];
}
