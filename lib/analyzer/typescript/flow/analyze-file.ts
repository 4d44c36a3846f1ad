import { ts } from "ts-morph";
import { analyzeResources, type FlowResult, type SiteReport } from "../../flow/resource-flow.ts";
import { emptySummary, type FunctionSummary } from "../../flow/summaries.ts";
import type { AnalyzeOptions } from "../../types.ts";
import { type FunctionLike, isFunctionLike, unwrapTypes } from "../ast.ts";
import type { TypeScriptIndex } from "../build-index.ts";
import { buildFileFacts, type FileFacts, type FlowIndex, emptyFlowIndex, qualifiedName, resolverFor } from "./file-facts.ts";
import { type ClassInfo, classConstruct, hostOfOpened, type LoweredFunction, lowerFunction, PARAM_SITE, type SiteInfo, typeOfAnnotation, typeOfQualified } from "./lower.ts";

// One file's resource analysis, shared by every lifecycle rule: each function (and the
// module's top level) lowered and run through the dataflow once, plus the class-level
// check of resources kept in fields. Rules are queries on the result.

export type SiteResult = {
  site: SiteInfo;
  report: SiteReport | undefined;
  result: FlowResult;
  lowered: LoweredFunction;
  /** For a resource stored in a field: does some method of the class release it (or hand it on)? */
  fieldReleased: boolean | null;
};

export type FileAnalysis = { facts: FileFacts; sites: SiteResult[] };

const cache = new WeakMap<ts.SourceFile, FileAnalysis>();

export function analyzeFile(path: string, text: string, sourceFile: ts.SourceFile, index: TypeScriptIndex, options: AnalyzeOptions): FileAnalysis {
  const cached = cache.get(sourceFile);
  if (cached) return cached;
  const flow = (index as TypeScriptIndex & { flow?: FlowIndex }).flow ?? emptyFlowIndex();
  const facts = buildFileFacts(path, text, sourceFile, resolverFor(index), flow, options, false);
  inferModuleTypes(facts);
  const nextSite = { value: 0 };
  const sites: SiteResult[] = [];
  const literal = asIdentifiers(acquisitionLiteral(facts));
  for (const entry of functionsOf(sourceFile)) {
    const { fn } = entry;
    const body = ts.isSourceFile(fn) ? fn : fn.body;
    if (!body) continue;
    // Functions that cannot hold an acquisition need no graph.
    if (!literal.test(ts.isSourceFile(fn) ? text : text.slice(body.pos, body.end))) continue;
    const lowered = lowerFunction(facts, fn, nextSite, { classInfo: classInfoFor(facts, entry) });
    if (lowered.sites.every((site) => site.inlined)) continue;
    const result = analyzeResources(lowered.graph);
    for (const site of lowered.sites) {
      if (site.inlined) continue;
      sites.push({ site, report: result.sites.get(site.id), result, lowered, fieldReleased: null });
    }
  }
  // Resources kept in fields: checked against every method of the class.
  for (const entry of sites) {
    if (!entry.site.field || entry.site.facts.rule === "prisma-client-per-call") continue;
    const cls = classOf(entry.site.owner);
    entry.fieldReleased = cls ? classReleasesField(facts, cls, entry.site.field, nextSite) : false;
  }
  const analysis = { facts, sites };
  cache.set(sourceFile, analysis);
  return analysis;
}

/** Words without which a function cannot acquire anything the models or summaries know. */
export function acquisitionLiteral(facts: Pick<FileFacts, "registry" | "flow">): RegExp {
  const words = new Set<string>();
  for (const type of facts.registry.types.values()) {
    for (const [name, method] of Object.entries(type.methods ?? {})) {
      if (method.opens || (method.returns && facts.registry.types.get(method.returns)?.resource && method.fresh !== false)) words.add(name);
    }
  }
  for (const [name, entry] of facts.registry.exports) {
    const model = entry.call ?? entry.construct;
    if (model?.returns && facts.registry.types.get(model.returns)?.resource && model.fresh !== false) words.add(name.split(/[.#/]/).pop() ?? name);
  }
  words.add("PrismaClient");
  // Project subclasses of library classes (`class Db extends PrismaClient`).
  for (const key of Object.keys(facts.flow.classBases ?? {})) {
    const construct = classConstruct(facts, key);
    if (construct?.returns && construct.fresh !== false && facts.registry.types.get(construct.returns)?.resource) {
      const name = key.slice(key.indexOf("#") + 1);
      if (name !== "default") words.add(name);
    }
  }
  for (const [name, summary] of Object.entries(facts.flow.summaries)) {
    if (summary.returnsFresh) words.add(name.split(/[#.]/).pop() ?? name);
  }
  const escaped = [...words].filter((word) => word.length > 0).map((word) => word.replace(/[$.*+?^()[\]{}|\\]/g, "\\$&"));
  return new RegExp(`(${escaped.join("|")})`);
}

/**
 * The same words as whole identifiers: an acquisition is a call whose name is one of them,
 * so `connection` or `transactionDepth` alone cannot hold one (in ORM code those occur in
 * most functions). The index keeps the substring test: its summaries also record types
 * and parameters of functions it lowered for that reason.
 */
export function asIdentifiers(literal: RegExp): RegExp {
  return new RegExp(`(?<![\\w$])${literal.source}(?![\\w$])`);
}

type FunctionEntry = { fn: FunctionLike | ts.SourceFile; classInfo: ClassInfo | null; name: string | null };

/** Every function of the file (each analysed on its own), the module's top level first. */
export function functionsOf(sourceFile: ts.SourceFile): FunctionEntry[] {
  const out: FunctionEntry[] = [{ fn: sourceFile, classInfo: null, name: null }];
  // Iterative: generated code nests thousands of levels deep.
  const stack: { node: ts.Node; cls: ClassInfo | null }[] = [];
  const push = (parent: ts.Node, cls: ClassInfo | null): void => {
    const children: ts.Node[] = [];
    parent.forEachChild((child) => {
      children.push(child);
    });
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], cls });
  };
  push(sourceFile, null);
  while (stack.length > 0) {
    const { node, cls } = stack.pop() as { node: ts.Node; cls: ClassInfo | null };
    let current = cls;
    if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) current = classInfoOf(node);
    if (isFunctionLike(node)) out.push({ fn: node, classInfo: isMethodOfClass(node) ? current : null, name: functionName(node, current) });
    push(node, isFunctionLike(node) && !ts.isArrowFunction(node) && !isMethodOfClass(node) ? null : current);
  }
  return out;
}

function isMethodOfClass(node: ts.Node): boolean {
  if (ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) {
    return ts.isClassLike(node.parent);
  }
  // Arrow functions inside methods (and arrow-valued class properties) see the same `this`.
  if (ts.isArrowFunction(node)) return true;
  return false;
}

/** "name" for top-level functions and const-bound arrows, "Class.method" for methods; null otherwise. */
export function functionName(node: FunctionLike, cls: ClassInfo | null): string | null {
  if (ts.isFunctionDeclaration(node) && node.name && ts.isSourceFile(node.parent)) return node.name.text;
  if (ts.isFunctionDeclaration(node) && !node.name && ts.isSourceFile(node.parent)) return "default";
  if ((ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)) {
    const statement = node.parent.parent.parent;
    if (statement && ts.isVariableStatement(statement) && ts.isSourceFile(statement.parent)) return node.parent.name.text;
  }
  if ((ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node)) && cls && ts.isClassLike(node.parent) && ts.isIdentifier(node.name)) {
    return `${cls.name}.${node.name.text}`;
  }
  if (ts.isArrowFunction(node) && ts.isPropertyDeclaration(node.parent) && cls && ts.isIdentifier(node.parent.name)) return `${cls.name}.${node.parent.name.text}`;
  return null;
}

function classInfoOf(node: ts.ClassLikeDeclaration): ClassInfo {
  return { name: node.name?.text ?? "<class>", fieldTypes: new Map(), node } as ClassInfo & { node: ts.ClassLikeDeclaration };
}

export function classOf(owner: ts.Node): ts.ClassLikeDeclaration | null {
  for (let current: ts.Node | undefined = owner.parent; current; current = current.parent) {
    if (ts.isClassLike(current)) return current;
  }
  return null;
}

/** Field types of a class: `pool: Pool`, `private readonly ds: DataSource` parameter properties, `pool = new Pool()`. */
export function fillClassTypes(facts: FileFacts, info: ClassInfo, cls: ts.ClassLikeDeclaration): void {
  for (const member of cls.members) {
    if (ts.isPropertyDeclaration(member) && ts.isIdentifier(member.name)) {
      const type = typeOfAnnotation(facts, member.type) ?? (member.initializer ? expressionType(facts, member.initializer) : null);
      if (type) info.fieldTypes.set(member.name.text, type);
    }
    if (ts.isConstructorDeclaration(member)) {
      for (const parameter of member.parameters) {
        if (!ts.isIdentifier(parameter.name)) continue;
        const type = typeOfAnnotation(facts, parameter.type);
        if (type) info.fieldTypes.set(parameter.name.text, type);
      }
    }
  }
}

/** Methods that end an object's life: what they do with a field is its release. */
const closePathNames = /^(?:close|release|destroy|dispose|end|stop|shutdown|teardown|disconnect|terminate|cleanup|\[Symbol\.(?:async)?[dD]ispose\])$/;

/** Does some method of the class release `this.<field>` on every normal path through it, or hand it on? */
function classReleasesField(facts: FileFacts, cls: ts.ClassLikeDeclaration, field: string, nextSite: { value: number }): boolean {
  const info = classInfoOf(cls);
  fillClassTypes(facts, info, cls);
  const seed = ++nextSite.value;
  for (const member of cls.members) {
    const fns: FunctionLike[] = [];
    if ((ts.isMethodDeclaration(member) || ts.isGetAccessorDeclaration(member)) && member.body) fns.push(member);
    if (ts.isPropertyDeclaration(member) && member.initializer && isFunctionLike(unwrapTypes(member.initializer))) fns.push(unwrapTypes(member.initializer) as FunctionLike);
    // A close path that hands the field to a helper (`release() { unlistenAndRelease(this.client) }`): that helper releases it.
    const name = member.name && ts.isIdentifier(member.name) ? member.name.text : "";
    if (closePathNames.test(name) && fns.length > 0) {
      const text = fns[0].body?.getText(facts.sourceFile) ?? "";
      const attr = field.slice("this.".length).split("@")[0].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      if (new RegExp(`[(,]\\s*this\\.${attr}\\s*[,)]`).test(text)) return true;
    }
    for (const fn of fns) {
      if (!fn.body || !fn.body.getText(facts.sourceFile).includes(field.slice("this.".length).split("@")[0])) continue;
      const lowered = lowerFunction(facts, fn, nextSite, { classInfo: info, fieldSeeds: new Map([[field, seed]]) });
      const report = analyzeResources(lowered.graph).sites.get(seed);
      if (!report) continue;
      if (report.transfers.some((reason) => reason !== "stored-field")) return true;
      if (report.releases.length > 0 && !report.leaksOnNormalExit) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------- module-level types

/** `const pool = new Pool()`, `const knex = knexFactory({...})`, `const ds = new DataSource(...)`. */
export function inferModuleTypes(facts: FileFacts): void {
  for (let pass = 0; pass < 2; pass++) {
    for (const statement of facts.sourceFile.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      for (const declaration of statement.declarationList.declarations) {
        if (!ts.isIdentifier(declaration.name)) continue;
        const type = typeOfAnnotation(facts, declaration.type) ?? (declaration.initializer ? expressionType(facts, declaration.initializer) : null);
        if (type) facts.moduleTypes.set(declaration.name.text, type);
      }
    }
  }
}

/** The type of a module-level expression, without lowering it. */
export function expressionType(facts: FileFacts, expression: ts.Expression): string | null {
  const e = unwrapTypes(expression);
  if (ts.isAwaitExpression(e)) return expressionType(facts, e.expression);
  if (ts.isIdentifier(e)) {
    const qualified = facts.imports.get(e.text);
    if (qualified) return typeOfQualified(facts, qualified);
    return facts.moduleTypes.get(e.text) ?? null;
  }
  if (ts.isNewExpression(e)) {
    const q = qualifiedOf(facts, e.expression);
    const known = q ? (facts.registry.exports.get(q)?.construct?.returns ?? classConstruct(facts, q)?.returns) : undefined;
    if (known) return known;
    const callee = unwrapTypes(e.expression);
    const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : "";
    const convention = facts.conventions.find((c) => c.construct && new RegExp(c.construct).test(name));
    return convention && !facts.registry.types.get(convention.type)?.resource ? convention.type : null;
  }
  if (ts.isCallExpression(e)) {
    const callee = unwrapTypes(e.expression);
    const q = qualifiedOf(facts, callee);
    if (q) {
      const call = facts.registry.exports.get(q)?.call;
      if (call?.returns && call.fresh === false) return call.returns;
      const summary = facts.flow.summaries[q];
      if (summary?.returnsType) return summary.returnsType;
    }
    if (ts.isPropertyAccessExpression(callee)) {
      const receiver = expressionType(facts, callee.expression);
      const method = receiver ? facts.registry.types.get(receiver)?.methods?.[callee.name.text] : undefined;
      if (method?.returns && method.fresh === false) return method.returns;
    }
    return null;
  }
  if (ts.isPropertyAccessExpression(e)) {
    const q = qualifiedOf(facts, e);
    return q ? typeOfQualified(facts, q) : null;
  }
  if (ts.isBinaryExpression(e) && (e.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || e.operatorToken.kind === ts.SyntaxKind.BarBarToken)) {
    return expressionType(facts, e.right) ?? expressionType(facts, e.left);
  }
  return null;
}

const qualifiedOf = qualifiedName;

// ---------------------------------------------------------------- summaries

/** What calling `fn` does to resources, from its own graph (params seeded as owned values). */
export function summarize(facts: FileFacts, fn: FunctionLike, classInfo: ClassInfo | null): FunctionSummary {
  const lowered = lowerFunction(facts, fn, { value: 0 }, { paramSites: true, classInfo });
  const result = analyzeResources(lowered.graph);
  const summary = emptySummary(ts.isFunctionLike(fn) && (ts.getCombinedModifierFlags(fn) & ts.ModifierFlags.Async) !== 0);
  lowered.paramNames.forEach((name, index) => {
    if (!name) return;
    const report = result.sites.get(PARAM_SITE + index);
    if (!report) return;
    if (report.transfers.some((reason) => reason !== "captured")) summary.takesParams.push(index);
    else if (report.releases.length > 0 && !report.leaksOnNormalExit) summary.releasesParams.push(index);
  });
  // A resource returned itself wins over one opened on a returned object (a query runner
  // returned with its transaction started is still a query runner to its callers).
  for (const opened of [false, true]) {
    if (summary.returnsFresh) break;
    for (const site of lowered.sites) {
      if ((site.origin === "opens") !== opened) continue;
      const report = result.sites.get(site.id);
      if (report?.transfers.includes("returned") && lowered.returnedTypes.has(site.id) && !site.inlined) {
        summary.returnsFresh = site.type;
        summary.alwaysFresh = !report.leaksOnNormalExit;
      }
    }
  }
  if (!summary.returnsFresh && lowered.returnsPromiseOf) {
    summary.returnsFresh = lowered.returnsPromiseOf;
    summary.alwaysFresh = true;
    summary.async = true;
  }
  if (!summary.returnsFresh && lowered.returnedPlain) summary.returnsType = lowered.returnedPlain;
  // `await client.connect(); return client`: the caller gets the client, holding its connection.
  const host = hostOfOpened(facts.registry, summary.returnsFresh);
  if (host) summary.returnsType = host;
  return summary;
}

export function classInfoFor(facts: FileFacts, entry: FunctionEntry): ClassInfo | null {
  if (!entry.classInfo) return null;
  const cls = (entry.classInfo as ClassInfo & { node?: ts.ClassLikeDeclaration }).node;
  if (cls && entry.classInfo.fieldTypes.size === 0) fillClassTypes(facts, entry.classInfo, cls);
  return entry.classInfo;
}
