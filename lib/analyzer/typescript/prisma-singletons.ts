import { ts } from "ts-morph";
import type { SourceInput } from "../types.ts";
import { isFunctionLike, unwrapTypes, walk } from "./ast.ts";
import { parseSource } from "./parse.ts";

// Which modules export one shared PrismaClient (`export const prisma = new PrismaClient()`,
// the Next.js `globalForPrisma.prisma ?? new PrismaClient()` pattern, or a
// `prismaClientSingleton()` factory called at module level), and how to tell a
// per-call `new PrismaClient()` from one that builds a singleton.

export interface PrismaSingleton {
  path: string;
  /** Exported name, or "default". */
  exportName: string;
}

export function isPrismaClientConstruction(node: ts.Node): node is ts.NewExpression {
  if (!ts.isNewExpression(node)) return false;
  const callee = unwrapTypes(node.expression);
  const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : "";
  return name.endsWith("PrismaClient");
}

export function findPrismaSingletons(files: readonly SourceInput[]): PrismaSingleton[] {
  const found: PrismaSingleton[] = [];
  for (const file of files) {
    if (!file.text.includes("PrismaClient")) continue; // cheap filter: most files never parse here
    try {
      const sourceFile = parseSource(file.path, file.text);
      for (const exportName of exportedSingletons(sourceFile)) found.push({ path: file.path, exportName });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error; // nested too deeply to parse: not a singleton module
    }
  }
  return found;
}

function exportedSingletons(sourceFile: ts.SourceFile): string[] {
  const factories = new Set<string>();
  for (const statement of sourceFile.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name && constructsPrisma(statement)) factories.add(statement.name.text);
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        const init = declaration.initializer;
        if (ts.isIdentifier(declaration.name) && init && isFunctionLike(init) && constructsPrisma(init)) {
          factories.add(declaration.name.text);
        }
      }
    }
  }
  const singletons = new Map<string, boolean>(); // local name → exported directly
  for (const statement of sourceFile.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const exported = statement.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword) ?? false;
    for (const declaration of statement.declarationList.declarations) {
      const init = declaration.initializer;
      if (!ts.isIdentifier(declaration.name) || !init || isFunctionLike(init)) continue;
      if (buildsClient(init, factories)) singletons.set(declaration.name.text, exported);
    }
  }
  collectAssignedSingletons(sourceFile, factories, singletons);
  const names: string[] = [];
  for (const [name, exported] of singletons) if (exported) names.push(name);
  for (const statement of sourceFile.statements) {
    if (ts.isExportAssignment(statement) && !statement.isExportEquals) {
      const value = unwrapTypes(statement.expression);
      if ((ts.isIdentifier(value) && singletons.has(value.text)) || buildsClient(value, factories)) names.push("default");
    }
    if (ts.isExportDeclaration(statement) && !statement.moduleSpecifier && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const element of statement.exportClause.elements) {
        const local = (element.propertyName ?? element.name).text;
        if (singletons.has(local)) names.push(element.name.text);
      }
    }
  }
  return [...new Set(names)];
}

function constructsPrisma(fn: ts.Node): boolean {
  let found = false;
  walk(fn, (child) => {
    if (isPrismaClientConstruction(child)) found = true;
    return !found;
  });
  return found;
}

/** Does this module-level expression build a client (directly, via a factory, or the globalThis cache)? */
function buildsClient(expression: ts.Node, factories: ReadonlySet<string>): boolean {
  if (isPrismaClientConstruction(expression)) return true;
  let found = false;
  walk(expression, (child) => {
    if (found || isFunctionLike(child)) return false;
    if (isPrismaClientConstruction(child)) found = true;
    if (ts.isCallExpression(child) && ts.isIdentifier(child.expression) && factories.has(child.expression.text)) found = true;
    return !found;
  });
  return found;
}

/** A factory function called at module level builds the module's one client (`const db = globalThis.x ?? make()`, a seed script's `main()`). */
export function isFactoryCalledAtModuleLevel(fn: ts.Node, sourceFile: ts.SourceFile): boolean {
  let name: string | null = null;
  if (ts.isFunctionDeclaration(fn) && fn.name && fn.parent === sourceFile) name = fn.name.text;
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isVariableDeclaration(fn.parent) && ts.isIdentifier(fn.parent.name)) {
    const statement = fn.parent.parent.parent;
    if (statement.parent === sourceFile) name = fn.parent.name.text;
  }
  if (name === null) return false;
  let called = false;
  walk(sourceFile, (child) => {
    if (called || isFunctionLike(child)) return false;
    if (ts.isCallExpression(child) && ts.isIdentifier(child.expression) && child.expression.text === name) called = true;
    return !called;
  });
  return called;
}

const DI_DECORATORS = new Set(["Injectable", "Service", "Module", "Global", "Singleton", "injectable", "singleton"]);

/** A constructor or field of a class a DI container builds once (NestJS `@Injectable()`). */
export function isInDependencyInjectedClass(fn: ts.Node): boolean {
  const owner = fn.parent;
  if (!owner || !(ts.isClassDeclaration(owner) || ts.isClassExpression(owner))) return false;
  if (!(ts.isConstructorDeclaration(fn) || ts.isPropertyDeclaration(fn))) return false;
  return (ts.getDecorators(owner) ?? []).some((decorator) => {
    const expression = ts.isCallExpression(decorator.expression) ? decorator.expression.expression : decorator.expression;
    return ts.isIdentifier(expression) && DI_DECORATORS.has(expression.text);
  });
}

/**
 * The older Next.js shape: `let prisma; if (production) prisma = new PrismaClient(); else
 * { global.cachedPrisma ??= ...; prisma = global.cachedPrisma } export const db = prisma`.
 * Module-level names assigned a client, a globalThis slot or another singleton are
 * singletons too (two passes propagate `db = prisma`).
 */
function collectAssignedSingletons(sourceFile: ts.SourceFile, factories: ReadonlySet<string>, singletons: Map<string, boolean>): void {
  if (!buildsClient(sourceFile, factories)) return;
  const isSource = (value: ts.Expression): boolean => {
    const inner = unwrapTypes(value);
    if (buildsClient(inner, factories)) return true;
    if (ts.isIdentifier(inner)) return singletons.has(inner.text);
    if (ts.isPropertyAccessExpression(inner) && ts.isIdentifier(inner.expression)) {
      return /^(global|globalThis)$/.test(inner.expression.text) || /^globalFor/i.test(inner.expression.text);
    }
    return false;
  };
  const exportedNames = new Set<string>();
  for (const statement of sourceFile.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const exported = statement.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword) ?? false;
    for (const declaration of statement.declarationList.declarations) {
      if (exported && ts.isIdentifier(declaration.name)) exportedNames.add(declaration.name.text);
    }
  }
  for (let pass = 0; pass < 2; pass++) {
    walk(sourceFile, (node) => {
      if (isFunctionLike(node)) return false;
      if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isIdentifier(node.left)) {
        if (isSource(node.right)) singletons.set(node.left.text, exportedNames.has(node.left.text));
      }
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isIdentifier(unwrapTypes(node.initializer))) {
        if (isSource(node.initializer)) singletons.set(node.name.text, exportedNames.has(node.name.text));
      }
      return true;
    });
  }
}
