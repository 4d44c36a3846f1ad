import { ts } from "ts-morph";
import { buildRegistry, type LibraryModel, type ModelRegistry, type UserResource, userModels } from "../../flow/models.ts";
import type { FunctionSummary } from "../../flow/summaries.ts";
import { typescriptModels } from "../../models/typescript/index.ts";
import type { AnalyzeOptions } from "../../types.ts";
import { unwrapTypes } from "../ast.ts";
import { createResolver, type Resolver } from "../resolve.ts";

// What the lowering needs to know about one file: the library models in force (built-in
// plus the user's `resources:`), what each imported name stands for (a package export
// such as "pg.Pool", or a project export "src/db.ts#getClient"), the types of module-level
// bindings (`const pool = new Pool()`), and the project's function summaries.

/** The cross-file facts the flow front end adds to the TypeScript index (structured-cloneable). */
export type FlowIndex = {
  /** "path#name" / "path#Class.method" -> summary. */
  summaries: Record<string, FunctionSummary>;
  /** "path#name" -> qualified type of an exported module-level binding (`export const pool = new Pool()`). */
  exportTypes: Record<string, string>;
  /**
   * "path#Class" -> the class it extends (`class Db extends PrismaClient`): the qualified
   * name when the import resolves, and the name as written (for naming conventions).
   * Filled while the index parses each file; a project subclass of a library class makes
   * the same resource as the library class.
   */
  classBases?: Record<string, ClassBase>;
};

export type ClassBase = { qualified: string | null; name: string };

export function emptyFlowIndex(): FlowIndex {
  return { summaries: {}, exportTypes: {}, classBases: {} };
}

export type Convention = NonNullable<LibraryModel["conventions"]>[number];

export type FileFacts = {
  path: string;
  text: string;
  sourceFile: ts.SourceFile;
  registry: ModelRegistry;
  conventions: Convention[];
  /** local name -> qualified name. */
  imports: Map<string, string>;
  /** module-level name -> qualified type. */
  moduleTypes: Map<string, string>;
  /** names declared at module level (variables, functions, classes). */
  moduleNames: Set<string>;
  flow: FlowIndex;
  /** Last name segments of `sessions.closers`: functions that take ownership of what they are given. */
  closers: Set<string>;
  /** Every release method of every resource model (for parameters of unknown type). */
  releaseMethods: Set<string>;
  /** Methods that open/close resources living on the receiver, by name (for parameters of unknown type). */
};

const registryCache = new Map<string, { registry: ModelRegistry; conventions: Convention[]; releaseMethods: Set<string> }>();

/** The models in force: built-in ones plus the config's `resources:` entries (when the config has the key). */
export function modelsFor(options: AnalyzeOptions | undefined): { registry: ModelRegistry; conventions: Convention[]; releaseMethods: Set<string> } {
  const resources = ((options?.config as { resources?: UserResource[] } | undefined)?.resources ?? []) as UserResource[];
  const key = JSON.stringify(resources);
  const cached = registryCache.get(key);
  if (cached) return cached;
  const libraries: LibraryModel[] = [...typescriptModels];
  if (resources.length > 0) libraries.push(userModels("typescript", resources));
  const registry = buildRegistry(libraries);
  const conventions = libraries.flatMap((library) => library.conventions ?? []);
  const releaseMethods = new Set<string>();
  for (const type of registry.types.values()) for (const method of type.resource?.releaseMethods ?? []) releaseMethods.add(method);
  const result = { registry, conventions, releaseMethods };
  registryCache.set(key, result);
  return result;
}

export function closerNames(options: AnalyzeOptions | undefined): Set<string> {
  return new Set((options?.config.sessions.closers ?? []).map((closer) => closer.split(/[.:/#]/).pop() ?? closer));
}

export function buildFileFacts(
  path: string,
  text: string,
  sourceFile: ts.SourceFile,
  resolver: Resolver,
  flow: FlowIndex,
  options: AnalyzeOptions | undefined,
  /** The index records the file's subclasses into `flow`; a file's analysis only reads them (same result in every worker). */
  recordClasses = true,
): FileFacts {
  const { registry, conventions, releaseMethods } = modelsFor(options);
  const facts: FileFacts = {
    path,
    text,
    sourceFile,
    registry,
    conventions: conventions.filter((c) => !c.fileMentions || new RegExp(c.fileMentions).test(text)),
    imports: new Map(),
    moduleTypes: new Map(),
    moduleNames: new Set(),
    flow,
    closers: closerNames(options),
    releaseMethods,
  };
  const qualify = (specifier: string, imported: string): string => {
    const project = resolver.resolve(path, specifier);
    if (project) return `${project}#${imported}`;
    // A default or namespace import of a package stands for the package itself (`import pg from "pg"`).
    return imported === "*" || imported === "default" ? specifier : `${specifier}.${imported}`;
  };
  for (const statement of sourceFile.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = statement.importClause;
      if (!clause) continue;
      const specifier = statement.moduleSpecifier.text;
      if (clause.name) facts.imports.set(clause.name.text, qualify(specifier, "default"));
      const named = clause.namedBindings;
      if (named && ts.isNamespaceImport(named)) facts.imports.set(named.name.text, qualify(specifier, "*"));
      else if (named) for (const element of named.elements) facts.imports.set(element.name.text, qualify(specifier, (element.propertyName ?? element.name).text));
      continue;
    }
    if (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference)) {
      const expression = statement.moduleReference.expression;
      if (ts.isStringLiteral(expression)) facts.imports.set(statement.name.text, qualify(expression.text, "*"));
      continue;
    }
    if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) {
      if (statement.name) facts.moduleNames.add(statement.name.text);
      continue;
    }
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      const init = declaration.initializer ? unwrapTypes(declaration.initializer) : undefined;
      const required = init ? requireSpecifier(init) : null;
      if (required) {
        if (ts.isIdentifier(declaration.name)) facts.imports.set(declaration.name.text, qualify(required.specifier, required.member ?? "*"));
        else if (ts.isObjectBindingPattern(declaration.name)) {
          for (const element of declaration.name.elements) {
            if (!ts.isIdentifier(element.name)) continue;
            const imported = element.propertyName && ts.isIdentifier(element.propertyName) ? element.propertyName.text : element.name.text;
            facts.imports.set(element.name.text, qualify(required.specifier, imported));
          }
        }
        continue;
      }
      for (const name of boundNames(declaration.name)) facts.moduleNames.add(name);
    }
  }
  if (recordClasses) recordClassBases(facts, sourceFile);
  return facts;
}

/** `class Db extends PrismaClient {}`, `export default class extends pg.Pool {}`: into `flow.classBases`. */
function recordClassBases(facts: FileFacts, sourceFile: ts.SourceFile): void {
  for (const statement of sourceFile.statements) {
    if (!ts.isClassDeclaration(statement)) continue;
    const base = statement.heritageClauses?.find((clause) => clause.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
    if (!base) continue;
    const inner = unwrapTypes(base);
    const name = ts.isIdentifier(inner) ? inner.text : ts.isPropertyAccessExpression(inner) ? inner.name.text : null;
    if (!name) continue;
    const entry: ClassBase = { qualified: qualifiedName(facts, inner), name };
    facts.flow.classBases ??= {};
    const modifiers = ts.getModifiers(statement) ?? [];
    const isDefault = modifiers.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword) && modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (statement.name) facts.flow.classBases[`${facts.path}#${statement.name.text}`] = entry;
    if (isDefault) facts.flow.classBases[`${facts.path}#default`] = entry;
  }
}

/** What a module-level name or `ns.Member` stands for: "pg.Pool", "src/db.ts#Base". */
export function qualifiedName(facts: Pick<FileFacts, "imports" | "moduleNames" | "path">, expression: ts.Expression): string | null {
  const e = unwrapTypes(expression);
  if (ts.isIdentifier(e)) return facts.imports.get(e.text) ?? (facts.moduleNames.has(e.text) ? `${facts.path}#${e.text}` : null);
  if (ts.isPropertyAccessExpression(e)) {
    const left = qualifiedName(facts, e.expression);
    if (!left) return null;
    if (left.endsWith("#*") || left.endsWith("#default")) return `${left.replace(/#(\*|default)$/, "")}#${e.name.text}`;
    return left.includes("#") ? null : `${left}.${e.name.text}`;
  }
  return null;
}

/** `require("x")`, `require("x").Pool`, `require("x").default`. */
function requireSpecifier(node: ts.Expression): { specifier: string; member: string | null } | null {
  let member: string | null = null;
  let inner = node;
  if (ts.isPropertyAccessExpression(inner)) {
    member = inner.name.text === "default" ? null : inner.name.text;
    inner = unwrapTypes(inner.expression);
  }
  if (!ts.isCallExpression(inner) || !ts.isIdentifier(inner.expression) || inner.expression.text !== "require") return null;
  const argument = inner.arguments[0];
  if (!argument || !ts.isStringLiteralLike(argument)) return null;
  return { specifier: argument.text, member };
}

export function boundNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  const names: string[] = [];
  for (const element of name.elements) {
    if (ts.isOmittedExpression(element)) continue;
    names.push(...boundNames(element.name));
  }
  return names;
}

export function resolverFor(index: Parameters<typeof createResolver>[0]): Resolver {
  return createResolver(index);
}
