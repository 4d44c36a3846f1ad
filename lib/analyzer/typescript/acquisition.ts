import { ts } from "ts-morph";
import { enclosingFunction, type FunctionLike } from "./ast.ts";
import { isUsingDeclaration } from "./lifecycle.ts";

// Where does the result of an acquiring call go? `const c = await pool.connect()`,
// `c = await pool.connect()`, `pool.connect().then(c => ...)`, `return pool.connect()`...

export type Binding =
  | {
      kind: "declared";
      name: string;
      statement: ts.VariableStatement;
      declaration: ts.VariableDeclaration;
      using: boolean;
      blockScoped: boolean;
    }
  | { kind: "assigned"; name: string; statement: ts.ExpressionStatement }
  | { kind: "discarded"; statement: ts.ExpressionStatement }
  | { kind: "then"; name: string; callback: FunctionLike }
  | { kind: "moved" }
  | { kind: "unknown" };

export function bindingOf(call: ts.CallExpression): Binding {
  let node: ts.Node = call;
  let awaited = false;
  while (
    ts.isAwaitExpression(node.parent) ||
    ts.isParenthesizedExpression(node.parent) ||
    ts.isAsExpression(node.parent) ||
    ts.isNonNullExpression(node.parent) ||
    ts.isSatisfiesExpression(node.parent)
  ) {
    if (ts.isAwaitExpression(node.parent)) awaited = true;
    node = node.parent;
  }
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && parent.initializer === node) {
    if (!ts.isIdentifier(parent.name)) return { kind: "unknown" };
    const list = parent.parent;
    const statement = list.parent;
    if (!ts.isVariableDeclarationList(list) || !ts.isVariableStatement(statement)) return { kind: "unknown" };
    const blockScoped = (list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const | ts.NodeFlags.Using)) !== 0;
    return {
      kind: "declared",
      name: parent.name.text,
      statement,
      declaration: parent,
      using: isUsingDeclaration(parent),
      blockScoped,
    };
  }
  if (
    ts.isBinaryExpression(parent) &&
    parent.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
    parent.right === node &&
    ts.isIdentifier(parent.left) &&
    ts.isExpressionStatement(parent.parent)
  ) {
    return { kind: "assigned", name: parent.left.text, statement: parent.parent };
  }
  if (ts.isExpressionStatement(parent)) return { kind: "discarded", statement: parent };
  if (ts.isReturnStatement(parent) || (ts.isArrowFunction(parent) && parent.body === node)) return { kind: "moved" };
  if (!awaited && ts.isPropertyAccessExpression(parent) && parent.expression === node && parent.name.text === "then") {
    const thenCall = parent.parent;
    if (ts.isCallExpression(thenCall)) {
      const callback = thenCall.arguments[0];
      if (callback && (ts.isArrowFunction(callback) || ts.isFunctionExpression(callback))) {
        const first = callback.parameters[0];
        if (first && ts.isIdentifier(first.name)) return { kind: "then", name: first.name.text, callback };
      }
    }
  }
  return { kind: "unknown" };
}

/** The function (or file) whose code runs the acquisition. */
export function ownerOf(node: ts.Node): FunctionLike | ts.SourceFile {
  return enclosingFunction(node) ?? node.getSourceFile();
}

export function isAsyncFunction(owner: FunctionLike | ts.SourceFile): boolean {
  if (ts.isSourceFile(owner)) return true; // top-level await in modules
  return (ts.getCombinedModifierFlags(owner) & ts.ModifierFlags.Async) !== 0;
}
