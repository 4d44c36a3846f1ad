/**
 * # prisma-client-per-call
 *
 * ## What it does
 * Flags `new PrismaClient()` inside a function, method, constructor or class field,
 * where it runs once per request or per object instead of once per process. Not
 * flagged: module level; a client stored outside the call (the `globalThis` singleton
 * pattern `globalForPrisma.prisma ?? new PrismaClient()`, a `getPrisma()` that caches it
 * on a module variable or `globalThis`: `prisma ??= new PrismaClient()`,
 * `if (!client) client = new PrismaClient()`); a factory handed to a memo
 * (`remember("prisma", () => new PrismaClient())`, a DI provider's `useFactory`) or called at module level
 * (`const prismaClientSingleton = () => new PrismaClient()` with
 * `globalThis.prisma ?? prismaClientSingleton()`, or a seed script's `main()`); and
 * classes a DI container builds once (`@Injectable()`, `@Service()`). Where the client
 * goes is read from the function's dataflow, not from its name. A project class that
 * extends `PrismaClient` (a NestJS `PrismaService`, through project base classes too) is a
 * client as well: `new PrismaService()` in a function is one more client per call, even
 * when the container also builds one.
 *
 * ## Why is this bad?
 * Each `PrismaClient` owns its own connection pool (`num_cpus * 2 + 1` connections by
 * default) and query engine. One per request exhausts the database's connection limit
 * within seconds under load ("Too many connections", "Timed out fetching a new
 * connection from the connection pool"), and the clients are rarely `$disconnect()`ed.
 *
 * ## Example
 * ```ts
 * export async function GET() {
 *   const prisma = new PrismaClient();
 *   const users = await prisma.user.findMany();
 *   return Response.json(users);
 * }
 * ```
 *
 * ## Use instead
 * ```ts
 * import { prisma } from "@/lib/prisma";
 *
 * export async function GET() {
 *   const users = await prisma.user.findMany();
 *   return Response.json(users);
 * }
 * ```
 * with `lib/prisma.ts` exporting one client cached on `globalThis`.
 *
 * ## Fix safety
 * Unsafe, and offered only when the repository already exports a singleton (found by
 * the index): the fix imports it and uses it in place of `new PrismaClient(...)`. That
 * changes behaviour when the local client was built with different options (logging,
 * datasource URL), so it is never applied without `--unsafe-fixes`. No fix for a
 * subclass (the shared client lacks its methods and constructor options). No fix when the
 * function calls `$disconnect()` (that would disconnect the shared client), when the
 * name is already taken in the file, or when the file already imports that module.
 *
 * ## Options
 * None.
 */
import { posix } from "node:path";
import { ts } from "ts-morph";
import type { Fix, RawFinding, RuleMeta, TextEdit } from "../../types.ts";
import { type FunctionLike, isFunctionLike, isVariableReference, nodeRange, positionAt, scopeName, unwrapTypes, walk } from "../ast.ts";
import type { RuleContext } from "../context.ts";
import { qualifiedName } from "../flow/file-facts.ts";
import { fileAnalysis } from "../flow/findings.ts";
import { classConstruct } from "../flow/lower.ts";
import { isFactoryCalledAtModuleLevel, isInDependencyInjectedClass, isPrismaClientConstruction, type PrismaSingleton } from "../prisma-singletons.ts";
import { createResolver } from "../resolve.ts";

export const meta: RuleMeta = {
  id: "prisma-client-per-call",
  languages: ["typescript"],
  defaultSeverity: "error",
  fix: "unsafe",
  summary: "new PrismaClient() inside a function instead of one shared client",
};

export function check(context: RuleContext): RawFinding[] {
  const findings: RawFinding[] = [];
  // Inside functions: the dataflow says where each client goes.
  for (const entry of fileAnalysis(context).sites) {
    if (entry.site.facts.rule !== meta.id || !ts.isNewExpression(entry.site.node)) continue;
    const node = entry.site.node;
    const owner = entry.site.owner;
    if (!isFunctionLike(owner)) continue;
    const transfers = entry.report?.transfers ?? [];
    // Stored outside the call (a module variable, globalThis, a cache object): one client, reused.
    if (transfers.includes("stored-container")) continue;
    if (cachedByOperator(node)) continue;
    if (isFactoryCalledAtModuleLevel(owner, context.sourceFile)) continue;
    // `remember("prisma", () => new PrismaClient())`: a factory handed to a memo; the memo decides how often it runs.
    if (transfers.includes("returned") && isCallbackArgument(owner)) continue;
    if (isInDependencyInjectedClass(owner)) continue;
    // A project subclass (`class Db extends PrismaClient`) may add methods and options the
    // shared plain client lacks: no fix replaces it.
    const subclass = isPrismaClientConstruction(node) ? null : entry.site.calleeText;
    findings.push(report(context, node, describeOwner(owner), subclass ? null : singletonFix(context, node, owner), subclass));
  }
  // Instance fields: one client per object.
  const facts = fileAnalysis(context).facts;
  const isClient = (node: ts.Node): node is ts.NewExpression => {
    if (isPrismaClientConstruction(node)) return true;
    if (!ts.isNewExpression(node)) return false;
    const qualified = qualifiedName(facts, node.expression);
    return qualified !== null && classConstruct(facts, qualified)?.returns === "prisma.PrismaClient";
  };
  for (const member of classFieldConstructions(context.sourceFile, isClient)) {
    if (isInjectedClass(member.field.parent)) continue;
    const callee = unwrapTypes(member.node.expression).getText(context.sourceFile);
    const subclass = isPrismaClientConstruction(member.node) ? null : callee;
    findings.push(report(context, member.node, "a class field (one client per instance)", null, subclass));
  }
  return findings;
}

function report(context: RuleContext, node: ts.NewExpression, where: string, fix: Fix | null, subclass: string | null = null): RawFinding {
  const construction = subclass ? `\`new ${subclass}()\` (a PrismaClient subclass)` : "`new PrismaClient()`";
  return {
    rule: meta.id,
    message: `${construction} inside ${where} creates a client and its connection pool on every call; share one module-level client (cached on globalThis in development)`,
    ...nodeRange(context.sourceFile, node),
    fix,
    scope: scopeName(node),
  };
}

/** `cache ?? new PrismaClient()`, `x ||= new PrismaClient()`: the singleton cache. */
function cachedByOperator(node: ts.NewExpression): boolean {
  let current: ts.Node = node;
  while (ts.isParenthesizedExpression(current.parent) || ts.isAsExpression(current.parent)) current = current.parent;
  while (
    (ts.isPropertyAccessExpression(current.parent) && current.parent.expression === current) ||
    (ts.isCallExpression(current.parent) && current.parent.expression === current)
  ) {
    current = current.parent;
  }
  const parent = current.parent;
  if (!ts.isBinaryExpression(parent) || parent.right !== current) return false;
  const operator = parent.operatorToken.kind;
  return (
    operator === ts.SyntaxKind.QuestionQuestionToken ||
    operator === ts.SyntaxKind.BarBarToken ||
    operator === ts.SyntaxKind.QuestionQuestionEqualsToken ||
    operator === ts.SyntaxKind.BarBarEqualsToken
  );
}

/**
 * A factory handed to whoever decides how often it runs: a call argument
 * (`remember("prisma", () => new PrismaClient())`), or a property of an object given to a
 * call or decorator (a DI provider's `useFactory: () => new PrismaService()`).
 */
function isCallbackArgument(fn: FunctionLike): boolean {
  if (!(ts.isArrowFunction(fn) || ts.isFunctionExpression(fn))) return false;
  let current: ts.Node = fn;
  for (;;) {
    while (ts.isParenthesizedExpression(current.parent) || ts.isAsExpression(current.parent)) current = current.parent;
    const parent = current.parent;
    if (ts.isCallExpression(parent) || ts.isNewExpression(parent)) return parent.arguments?.some((argument) => argument === current) ?? false;
    if (ts.isPropertyAssignment(parent) && parent.initializer === current) current = parent.parent;
    else if (ts.isArrayLiteralExpression(parent)) current = parent;
    else return false;
  }
}

function classFieldConstructions(
  sourceFile: ts.SourceFile,
  isPrismaClientConstruction: (node: ts.Node) => node is ts.NewExpression,
): { field: ts.PropertyDeclaration; node: ts.NewExpression }[] {
  const out: { field: ts.PropertyDeclaration; node: ts.NewExpression }[] = [];
  walk(sourceFile, (node) => {
    if (!ts.isPropertyDeclaration(node) || !node.initializer) return !isFunctionLike(node) || true;
    const isStatic = node.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.StaticKeyword) ?? false;
    if (isStatic) return false;
    walk(node.initializer, (child) => {
      if (isFunctionLike(child)) return false;
      if (isPrismaClientConstruction(child)) out.push({ field: node, node: child });
      return true;
    });
    if (isPrismaClientConstruction(node.initializer)) out.push({ field: node, node: node.initializer });
    return false;
  });
  return out;
}

function isInjectedClass(node: ts.Node): boolean {
  if (!ts.isClassDeclaration(node) && !ts.isClassExpression(node)) return false;
  return (ts.getDecorators(node) ?? []).some((decorator) => {
    const expression = ts.isCallExpression(decorator.expression) ? decorator.expression.expression : decorator.expression;
    return ts.isIdentifier(expression) && /^(Injectable|Service|Singleton|injectable|singleton)$/.test(expression.text);
  });
}

function describeOwner(fn: ts.Node): string {
  if (ts.isConstructorDeclaration(fn)) return "a constructor";
  if (ts.isMethodDeclaration(fn)) return "a method";
  return "a function";
}

function singletonFix(context: RuleContext, node: ts.NewExpression, fn: ts.Node | null): Fix | null {
  if (!fn) return null;
  const { sourceFile, path, index } = context;
  const singleton = pickSingleton(index.prismaSingletons, path);
  if (!singleton) return null;
  let disconnects = false;
  walk(fn, (child) => {
    if (ts.isPropertyAccessExpression(child) && child.name.text === "$disconnect") disconnects = true;
    return !disconnects;
  });
  if (disconnects) return null;
  const resolver = createResolver(index);
  for (const statement of sourceFile.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      if (resolver.resolve(path, statement.moduleSpecifier.text) === singleton.path) return null;
    }
  }
  const localName = singleton.exportName === "default" ? "prisma" : singleton.exportName;
  const declaration = ts.isVariableDeclaration(node.parent) && node.parent.initializer === node ? node.parent : null;
  const replacesDeclaration =
    declaration !== null &&
    ts.isIdentifier(declaration.name) &&
    declaration.name.text === localName &&
    ts.isVariableDeclarationList(declaration.parent) &&
    declaration.parent.declarations.length === 1 &&
    ts.isVariableStatement(declaration.parent.parent);
  if (nameTaken(sourceFile, localName, replacesDeclaration ? declaration : null)) return null;
  const edits: TextEdit[] = [];
  const importEdit = importInsertion(context, singleton, localName);
  if (!importEdit) return null;
  edits.push(importEdit);
  if (replacesDeclaration && declaration) {
    const statement = declaration.parent.parent;
    const text = context.text;
    const start = text.lastIndexOf("\n", statement.getStart(sourceFile) - 1) + 1;
    const lineEnd = text.indexOf("\n", statement.getEnd());
    if (text.slice(start, statement.getStart(sourceFile)).trim() !== "") return null;
    if (lineEnd < 0 || text.slice(statement.getEnd(), lineEnd).trim() !== "") return null;
    edits.push({ path, start: positionAt(sourceFile, start), end: positionAt(sourceFile, lineEnd + 1), text: "" });
  } else {
    edits.push({ path, ...nodeRange(sourceFile, node), text: localName });
  }
  return {
    safety: "unsafe",
    description: `Use the shared client exported by ${singleton.path} instead of creating one per call`,
    edits,
  };
}

/** The singleton module nearest to the file (longest shared folder prefix). */
function pickSingleton(singletons: readonly PrismaSingleton[], path: string): PrismaSingleton | null {
  let best: PrismaSingleton | null = null;
  let bestScore = -1;
  for (const singleton of singletons) {
    if (singleton.path === path) return null;
    const a = singleton.path.split("/");
    const b = path.split("/");
    let score = 0;
    while (score < a.length - 1 && score < b.length - 1 && a[score] === b[score]) score++;
    if (score > bestScore) {
      best = singleton;
      bestScore = score;
    }
  }
  return best;
}

function nameTaken(sourceFile: ts.SourceFile, name: string, except: ts.VariableDeclaration | null): boolean {
  let taken = false;
  walk(sourceFile, (node) => {
    if (taken) return false;
    if (ts.isIdentifier(node) && node.text === name && isVariableReference(node)) {
      const parent = node.parent;
      const declares =
        ((ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isFunctionDeclaration(parent) || ts.isClassDeclaration(parent)) &&
          parent.name === node) ||
        ts.isImportSpecifier(parent) ||
        ts.isImportClause(parent) ||
        ts.isNamespaceImport(parent) ||
        ts.isBindingElement(parent);
      if (declares && parent !== except) taken = true;
    }
    return !taken;
  });
  return taken;
}

function importInsertion(context: RuleContext, singleton: PrismaSingleton, localName: string): TextEdit | null {
  const { sourceFile, path, text } = context;
  const usesRequire = /\brequire\(/.test(text) && !sourceFile.statements.some(ts.isImportDeclaration);
  if (usesRequire) return null;
  let specifier = posix.relative(posix.dirname(path), singleton.path).replace(/\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/, "");
  if (!specifier.startsWith(".")) specifier = `./${specifier}`;
  const relativeImports = sourceFile.statements
    .filter(ts.isImportDeclaration)
    .map((statement) => (ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : ""))
    .filter((value) => value.startsWith("."));
  if (relativeImports.some((value) => /\.js$/.test(value))) specifier += ".js";
  else if (relativeImports.some((value) => /\.tsx?$/.test(value))) specifier += posix.extname(singleton.path);
  const quote = /^\s*import[^\n]*'/m.test(text) ? "'" : '"';
  const semicolon = /^\s*import[^\n]*;\s*$/m.test(text) || !/^\s*import/m.test(text) ? ";" : "";
  const clause = singleton.exportName === "default" ? localName : `{ ${localName} }`;
  const line = `import ${clause} from ${quote}${specifier}${quote}${semicolon}`;
  const newline = text.includes("\r\n") ? "\r\n" : "\n";
  // After the directive prologue ("use server") and the leading imports.
  let anchor: ts.Statement | null = null;
  let inPrologue = true;
  for (const statement of sourceFile.statements) {
    const isDirective = inPrologue && ts.isExpressionStatement(statement) && ts.isStringLiteral(statement.expression);
    if (!isDirective && !ts.isImportDeclaration(statement) && !ts.isImportEqualsDeclaration(statement)) break;
    if (!isDirective) inPrologue = false;
    anchor = statement;
  }
  if (anchor === null) {
    const start = text.startsWith("#!") ? text.indexOf("\n") + 1 : 0;
    return { path, start: positionAt(sourceFile, start), end: positionAt(sourceFile, start), text: line + newline };
  }
  const at = anchor.getEnd();
  return { path, start: positionAt(sourceFile, at), end: positionAt(sourceFile, at), text: newline + line };
}
