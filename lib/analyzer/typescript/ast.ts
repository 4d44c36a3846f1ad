import { ts } from "ts-morph";
import type { Position } from "../types.ts";

// Small syntax helpers shared by the rules. Everything works on a plain
// `ts.SourceFile` parsed with parent pointers (see parse.ts).

export type FunctionLike =
  | ts.FunctionDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

export function isFunctionLike(node: ts.Node): node is FunctionLike {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

export function enclosingFunction(node: ts.Node): FunctionLike | null {
  let current = node.parent;
  while (current) {
    if (isFunctionLike(current)) return current;
    current = current.parent;
  }
  return null;
}

/** 1-based position of an offset. */
export function positionAt(sourceFile: ts.SourceFile, offset: number): Position {
  const { line, character } = sourceFile.getLineAndCharacterOfPosition(offset);
  return { line: line + 1, column: character + 1 };
}

export function nodeRange(sourceFile: ts.SourceFile, node: ts.Node): { start: Position; end: Position } {
  return { start: positionAt(sourceFile, node.getStart(sourceFile)), end: positionAt(sourceFile, node.getEnd()) };
}

export function lineOf(sourceFile: ts.SourceFile, node: ts.Node): number {
  return sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line + 1;
}

/** Skip parentheses, `await`, non-null assertions and type assertions. */
export function unwrap(node: ts.Expression): ts.Expression {
  let current = node;
  for (;;) {
    if (ts.isParenthesizedExpression(current) || ts.isNonNullExpression(current)) current = current.expression;
    else if (ts.isAsExpression(current) || ts.isTypeAssertionExpression(current) || ts.isSatisfiesExpression(current))
      current = current.expression;
    else if (ts.isAwaitExpression(current)) current = current.expression;
    else return current;
  }
}

/** Skip parentheses and type assertions but keep `await` visible. */
export function unwrapTypes(node: ts.Expression): ts.Expression {
  let current = node;
  for (;;) {
    if (ts.isParenthesizedExpression(current) || ts.isNonNullExpression(current)) current = current.expression;
    else if (ts.isAsExpression(current) || ts.isTypeAssertionExpression(current) || ts.isSatisfiesExpression(current))
      current = current.expression;
    else return current;
  }
}

/** `a.b.c` → "a.b.c"; `this.pool` → "this.pool"; calls and others → null. */
export function dottedName(node: ts.Expression): string | null {
  const inner = unwrapTypes(node);
  if (ts.isIdentifier(inner)) return inner.text;
  if (inner.kind === ts.SyntaxKind.ThisKeyword) return "this";
  if (ts.isPropertyAccessExpression(inner)) {
    const left = dottedName(inner.expression);
    return left === null ? null : `${left}.${inner.name.text}`;
  }
  if (ts.isCallExpression(inner)) {
    // pool.promise().getConnection(): keep the call visible in the receiver's name.
    const callee = dottedName(inner.expression);
    return callee === null ? null : `${callee}()`;
  }
  return null;
}

/** The method name and receiver of `receiver.method(...)`, or null. */
export function methodCall(node: ts.Node): { receiver: ts.Expression; method: string; call: ts.CallExpression } | null {
  if (!ts.isCallExpression(node)) return null;
  const callee = unwrapTypes(node.expression);
  if (ts.isPropertyAccessExpression(callee)) {
    return { receiver: callee.expression, method: callee.name.text, call: node };
  }
  return null;
}

/** Name used in fingerprints: `Class.method`, `functionName`, `router.get("/users")`, or `<module>`. */
export function scopeName(node: ts.Node): string {
  const parts: string[] = [];
  let current: ts.Node | undefined = node.parent;
  while (current && !ts.isSourceFile(current)) {
    const name = namePart(current);
    if (name) parts.unshift(name);
    current = current.parent;
  }
  return parts.length === 0 ? "<module>" : parts.join(".");
}

function namePart(node: ts.Node): string | null {
  if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) return node.name?.text ?? "<class>";
  if (ts.isFunctionDeclaration(node)) return node.name?.text ?? "<default>";
  if (ts.isConstructorDeclaration(node)) return "constructor";
  if (ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) {
    return propertyNameText(node.name);
  }
  if (ts.isPropertyDeclaration(node)) return propertyNameText(node.name);
  if (ts.isFunctionExpression(node) || ts.isArrowFunction(node)) {
    if (ts.isFunctionExpression(node) && node.name) return node.name.text;
    const parent = node.parent;
    if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
    if (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return propertyNameText(parent.name);
    if (ts.isCallExpression(parent)) {
      const callee = dottedName(parent.expression) ?? "<call>";
      const label = parent.arguments.find((argument) => ts.isStringLiteralLike(argument));
      return label && ts.isStringLiteralLike(label) ? `${callee}(${JSON.stringify(label.text)})` : `${callee}(callback)`;
    }
    return "<anonymous>";
  }
  return null;
}

function propertyNameText(name: ts.PropertyName): string {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isPrivateIdentifier(name)) {
    return name.text;
  }
  return "<computed>";
}

/**
 * Calls `visit` for every descendant in source order; returning false stops descending
 * into that node. Iterative: generated code nests thousands of levels deep
 * (`a + b + c + ...`), which would overflow the call stack of a recursive walk.
 */
export function walk(node: ts.Node, visit: (node: ts.Node) => boolean | undefined): void {
  const stack: ts.Node[] = [];
  const children: ts.Node[] = [];
  const collect = (child: ts.Node): undefined => {
    children.push(child);
    return undefined; // a truthy return would stop forEachChild
  };
  const pushChildren = (parent: ts.Node): void => {
    children.length = 0;
    parent.forEachChild(collect);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  };
  pushChildren(node);
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (visit(current) !== false) pushChildren(current);
  }
}

/**
 * Walk only the parts of the tree whose text contains a match of `pattern` (global):
 * subtrees without one are skipped. A rule looking for `createQueryRunner()` calls then
 * visits a few spines of the tree instead of every node (most of a matching file is
 * unrelated code).
 */
export function walkNear(sourceFile: ts.SourceFile, pattern: RegExp, visit: (node: ts.Node) => boolean | undefined): void {
  const offsets: number[] = [];
  for (const match of sourceFile.text.matchAll(pattern)) offsets.push(match.index);
  if (offsets.length === 0) return;
  walk(sourceFile, (node) => (spansOffset(offsets, node.pos, node.end) ? visit(node) : false));
}

/** Is some offset in [start, end)? `offsets` is sorted. */
function spansOffset(offsets: readonly number[], start: number, end: number): boolean {
  let low = 0;
  let high = offsets.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (offsets[middle] < start) low = middle + 1;
    else high = middle;
  }
  return low < offsets.length && offsets[low] < end;
}

/** Identifiers named `name` inside `node` that refer to a variable (not property names). */
export function referencesTo(node: ts.Node, name: string): ts.Identifier[] {
  const found: ts.Identifier[] = [];
  const check = (child: ts.Node): void => {
    if (ts.isIdentifier(child) && child.text === name && isVariableReference(child)) found.push(child);
  };
  check(node);
  walk(node, (child) => {
    check(child);
    return true;
  });
  return found;
}

export function isVariableReference(identifier: ts.Identifier): boolean {
  const parent = identifier.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === identifier) return false;
  if (ts.isPropertyAssignment(parent) && parent.name === identifier) return false;
  if ((ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent)) && parent.name === identifier) return false;
  if (ts.isQualifiedName(parent) && parent.right === identifier) return false;
  return true;
}

export function isInside(node: ts.Node, container: ts.Node): boolean {
  return node.pos >= container.pos && node.end <= container.end && hasAncestor(node, container);
}

function hasAncestor(node: ts.Node, ancestor: ts.Node): boolean {
  let current: ts.Node | undefined = node;
  while (current) {
    if (current === ancestor) return true;
    current = current.parent;
  }
  return false;
}
