import { lstatSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { ts as TS } from "ts-morph";
import { isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";

// Config files of other tools (ESLint's JSON, YAML and JavaScript configs) read as plain
// literal values with their lines. JavaScript and TypeScript configs are parsed, never
// run: only literal objects, arrays, strings, numbers and booleans are read (and
// top-level `const` bindings of them); anything else becomes an "unknown" value that
// the caller skips with a note.

const require = createRequire(import.meta.url);
let compiler: typeof TS | null = null;

/** The TypeScript compiler, loaded only when a repository has a config that needs it (it is big). */
export function typescript(): typeof TS {
  compiler ??= (require("ts-morph") as typeof import("ts-morph")).ts;
  return compiler;
}

export type Literal =
  | { kind: "string"; value: string; line: number }
  | { kind: "number"; value: number; line: number }
  | { kind: "boolean"; value: boolean; line: number }
  | { kind: "null"; line: number }
  | { kind: "array"; items: Literal[]; line: number }
  | { kind: "object"; entries: { key: string; value: Literal; line: number }[]; line: number }
  | { kind: "unknown"; text: string; line: number };

export function property(value: Literal | undefined, key: string): Literal | undefined {
  if (value?.kind !== "object") return undefined;
  // The last spelling wins, as in JavaScript.
  for (let i = value.entries.length - 1; i >= 0; i--) if (value.entries[i].key === key) return value.entries[i].value;
  return undefined;
}

export function stringValue(value: Literal | undefined): string | undefined {
  return value?.kind === "string" ? value.value : undefined;
}

/** A string or a list of strings; null when any part is not a literal string. */
export function stringList(value: Literal | undefined): string[] | null {
  if (value === undefined) return [];
  if (value.kind === "string") return [value.value];
  if (value.kind !== "array") return null;
  const out: string[] = [];
  for (const item of value.items) {
    if (item.kind !== "string") return null;
    out.push(item.value);
  }
  return out;
}

/** True when the value, anywhere inside, holds something that is not a literal. */
export function firstUnknown(value: Literal): Extract<Literal, { kind: "unknown" }> | null {
  if (value.kind === "unknown") return value;
  if (value.kind === "array") {
    for (const item of value.items) {
      const found = firstUnknown(item);
      if (found) return found;
    }
  }
  if (value.kind === "object") {
    for (const entry of value.entries) {
      const found = firstUnknown(entry.value);
      if (found) return found;
    }
  }
  return null;
}

/** A JSON file (comments allowed, as ESLint allows them) as a literal value. */
export function parseJsonLiteral(text: string, fileName: string): Literal | null {
  const ts = typescript();
  const file = ts.parseJsonText(fileName, text);
  if ((file as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics?.length) return null;
  const statement = file.statements[0];
  if (!statement) return null;
  return fromExpression(file, statement.expression, new Map(), 0);
}

export function fromYaml(node: unknown, lines: LineCounter): Literal {
  const lineOf = (n: Node | null | undefined) => (n?.range ? lines.linePos(n.range[0]).line : 1);
  if (isMap(node)) {
    return {
      kind: "object",
      line: lineOf(node),
      entries: node.items.map((pair) => {
        const key = pair.key as Node;
        return { key: isScalar(key) ? String(key.value) : "", value: fromYaml(pair.value, lines), line: lineOf(key) };
      }),
    };
  }
  if (isSeq(node)) return { kind: "array", line: lineOf(node), items: node.items.map((item) => fromYaml(item, lines)) };
  if (isScalar(node)) {
    const line = lineOf(node);
    const value = node.value;
    if (typeof value === "string") return { kind: "string", value, line };
    if (typeof value === "number") return { kind: "number", value, line };
    if (typeof value === "boolean") return { kind: "boolean", value, line };
    if (value === null) return { kind: "null", line };
    return { kind: "unknown", text: String(value), line };
  }
  return { kind: "null", line: lineOf(node as Node) };
}

/** Top-level `const name = <expression>` bindings of a module. */
export function topLevelConstants(file: TS.SourceFile): Map<string, TS.Expression> {
  const ts = typescript();
  const constants = new Map<string, TS.Expression>();
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement) || !(statement.declarationList.flags & ts.NodeFlags.Const)) continue;
    for (const declaration of statement.declarationList.declarations) {
      if (ts.isIdentifier(declaration.name) && declaration.initializer) constants.set(declaration.name.text, declaration.initializer);
    }
  }
  return constants;
}

export function lineOfNode(file: TS.SourceFile, node: TS.Node): number {
  return file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
}

export function unwrap(expression: TS.Expression): TS.Expression {
  const ts = typescript();
  let current = expression;
  while (
    ts.isParenthesizedExpression(current) ||
    ts.isAsExpression(current) ||
    ts.isSatisfiesExpression(current) ||
    ts.isTypeAssertionExpression(current) ||
    ts.isNonNullExpression(current)
  ) {
    current = current.expression;
  }
  return current;
}

/** A JavaScript expression as a literal value, following `const` bindings of the same file. */
export function fromExpression(file: TS.SourceFile, expression: TS.Expression, constants: Map<string, TS.Expression>, depth: number): Literal {
  const ts = typescript();
  const node = unwrap(expression);
  const line = lineOfNode(file, node);
  const unknown = (): Literal => ({ kind: "unknown", text: node.getText(file).slice(0, 80), line });
  if (depth > 20) return unknown();
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return { kind: "string", value: node.text, line };
  if (ts.isNumericLiteral(node)) return { kind: "number", value: Number(node.text), line };
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand)) {
    return { kind: "number", value: -Number(node.operand.text), line };
  }
  if (node.kind === ts.SyntaxKind.TrueKeyword) return { kind: "boolean", value: true, line };
  if (node.kind === ts.SyntaxKind.FalseKeyword) return { kind: "boolean", value: false, line };
  if (node.kind === ts.SyntaxKind.NullKeyword) return { kind: "null", line };
  if (ts.isIdentifier(node)) {
    const bound = constants.get(node.text);
    return bound ? fromExpression(file, bound, constants, depth + 1) : unknown();
  }
  if (ts.isArrayLiteralExpression(node)) {
    const items: Literal[] = [];
    for (const element of node.elements) {
      if (ts.isSpreadElement(element)) {
        const spread = fromExpression(file, element.expression, constants, depth + 1);
        if (spread.kind === "array") items.push(...spread.items);
        else items.push({ kind: "unknown", text: element.getText(file).slice(0, 80), line: lineOfNode(file, element) });
        continue;
      }
      items.push(fromExpression(file, element, constants, depth + 1));
    }
    return { kind: "array", items, line };
  }
  if (ts.isObjectLiteralExpression(node)) {
    const entries: { key: string; value: Literal; line: number }[] = [];
    for (const member of node.properties) {
      const memberLine = lineOfNode(file, member);
      if (ts.isPropertyAssignment(member)) {
        const key = propertyKey(member.name);
        if (key === null) {
          entries.push({ key: "[computed]", value: { kind: "unknown", text: member.name.getText(file), line: memberLine }, line: memberLine });
          continue;
        }
        entries.push({ key, value: fromExpression(file, member.initializer, constants, depth + 1), line: memberLine });
      } else if (ts.isShorthandPropertyAssignment(member)) {
        entries.push({ key: member.name.text, value: fromExpression(file, member.name, constants, depth + 1), line: memberLine });
      } else if (ts.isSpreadAssignment(member)) {
        const spread = fromExpression(file, member.expression, constants, depth + 1);
        if (spread.kind === "object") entries.push(...spread.entries);
        else entries.push({ key: "...", value: spread, line: memberLine });
      } else {
        entries.push({ key: "[method]", value: { kind: "unknown", text: member.getText(file).slice(0, 80), line: memberLine }, line: memberLine });
      }
    }
    return { kind: "object", entries, line };
  }
  return unknown();
}

function propertyKey(name: TS.PropertyName): string | null {
  const ts = typescript();
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name)) return name.text;
  if (ts.isComputedPropertyName(name)) {
    const inner = unwrap(name.expression);
    if (ts.isStringLiteral(inner) || ts.isNoSubstitutionTemplateLiteral(inner)) return inner.text;
  }
  return null;
}

/**
 * A policy file at the repository root, or null when it is missing, not a regular file
 * or a symbolic link (which could lead outside the repository), or larger than 1 MB.
 */
export function readPolicyFile(root: string, name: string): string | null {
  const path = join(root, name);
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    return null;
  }
  if (!stat.isFile() || stat.size > 1024 * 1024) return null;
  return readFileSync(path, "utf8");
}
