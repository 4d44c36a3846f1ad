import type { AnalyzeOptions, RawFinding, RuleId, RuleMeta } from "../types.ts";
import {
  type Binding,
  collectImports,
  type FactoryKind,
  isConventionalFactoryName,
  kindFromName,
  lastSegment,
  lookupQualified,
  moduleName,
  type PythonIndex,
} from "./build-index.ts";
import { isAsyncNode, type SyntaxNode, type Tree } from "./parse.ts";

export type PythonRuleContext = {
  path: string;
  text: string;
  lines: string[];
  tree: Tree;
  root: SyntaxNode;
  index: PythonIndex;
  options: AnalyzeOptions;
  module: string;
  /** Local name -> qualified "module.name" it was imported as. */
  imports: Record<string, string>;
};

export type PythonRule = {
  meta: RuleMeta;
  /** Cheap text test: the rule cannot fire unless this matches. */
  applies: (text: string) => boolean;
  check: (ctx: PythonRuleContext) => RawFinding[];
};

export function createContext(path: string, text: string, tree: Tree, index: PythonIndex, options: AnalyzeOptions): PythonRuleContext {
  const { module, isPackage } = moduleName(path);
  const root = tree.rootNode;
  return { path, text, lines: text.split("\n"), tree, root, index, options, module, imports: collectImports(root, module, isPackage) };
}

export type CallClass = { kind: "factory" | "cm-factory"; async: FactoryKind } | null;

function matchesConfigured(configured: readonly string[], callee: string, qualified: string | undefined): boolean {
  return configured.some((entry) => entry === callee || entry === qualified || lastSegment(entry) === lastSegment(callee));
}

/** Is this call a session factory call (returns a session) or a context-manager factory? */
export function classifyCall(ctx: PythonRuleContext, call: SyntaxNode): CallClass {
  if (call.type !== "call") return null;
  const fn = call.childForFieldName("function");
  if (!fn || (fn.type !== "identifier" && fn.type !== "attribute")) return null;
  const callee = fn.text;
  // sessionmaker(...) makes a factory, not a session.
  if (/^(async_)?(sessionmaker|scoped_session)$|^async_scoped_session$/.test(lastSegment(callee))) return null;
  const head = callee.split(".")[0];
  const qualified = ctx.imports[head] ? `${ctx.imports[head]}${callee.slice(head.length)}` : undefined;
  let binding: Binding | null = null;
  if (fn.type === "identifier") binding = ctx.index.modules[ctx.module]?.bindings[callee] ?? null;
  if (!binding && qualified) binding = lookupQualified(ctx.index, qualified);
  if (binding?.kind === "factory" || binding?.kind === "cm-factory") return binding;
  if (binding?.kind === "session-instance") return null;
  if (matchesConfigured(ctx.options.config.sessions.factories, callee, qualified)) return { kind: "factory", async: kindFromName(callee) };
  const last = lastSegment(callee);
  if ((last === "Session" || last === "AsyncSession") && (qualified ?? ctx.imports[last] ?? "").startsWith("sqlalchemy")) {
    return { kind: "factory", async: last === "AsyncSession" ? "async" : "sync" };
  }
  if (fn.type === "attribute") {
    const attributeKind = ctx.index.attributeFactories[last];
    if (attributeKind) return { kind: "factory", async: attributeKind };
  }
  if (isConventionalFactoryName(callee)) return { kind: "factory", async: kindFromName(callee) };
  return null;
}

export function isConfiguredCloser(ctx: PythonRuleContext, callee: string): boolean {
  const head = callee.split(".")[0];
  const qualified = ctx.imports[head] ? `${ctx.imports[head]}${callee.slice(head.length)}` : undefined;
  return matchesConfigured(ctx.options.config.sessions.closers, callee, qualified);
}

export type FunctionInfo = { node: SyntaxNode; name: string; qualifiedName: string; isAsync: boolean; isGenerator: boolean; decorators: string[] };

function ownNodesOfType(node: SyntaxNode, types: string[]): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  const visit = (n: SyntaxNode) => {
    for (const child of n.namedChildren) {
      if (types.includes(child.type)) found.push(child);
      if (child.type === "function_definition" || child.type === "class_definition" || child.type === "lambda") continue;
      visit(child);
    }
  };
  visit(node);
  return found;
}

export { ownNodesOfType };

/** Every function with its dotted name (Class.method, outer.inner). */
export function functions(ctx: PythonRuleContext): FunctionInfo[] {
  const result: FunctionInfo[] = [];
  for (const fn of ctx.root.descendantsOfType("function_definition")) {
    const names: string[] = [];
    for (let p: SyntaxNode | null = fn; p; p = p.parent) {
      if (p.type === "function_definition" || p.type === "class_definition") names.unshift(p.childForFieldName("name")?.text ?? "?");
    }
    const body = fn.childForFieldName("body");
    const decorators =
      fn.parent?.type === "decorated_definition"
        ? fn.parent.namedChildren.filter((c) => c.type === "decorator").map((d) => d.text.replace(/^@/, "").replace(/\(.*$/s, ""))
        : [];
    result.push({
      node: fn,
      name: names[names.length - 1],
      qualifiedName: names.join("."),
      isAsync: isAsyncNode(fn),
      isGenerator: body ? ownNodesOfType(body, ["yield"]).length > 0 : false,
      decorators,
    });
  }
  return result;
}

export function enclosingFunction(node: SyntaxNode): SyntaxNode | null {
  for (let p = node.parent; p; p = p.parent) if (p.type === "function_definition") return p;
  return null;
}

export function scopeOf(node: SyntaxNode): string {
  const names: string[] = [];
  for (let p: SyntaxNode | null = node.parent; p; p = p.parent) {
    if (p.type === "function_definition" || p.type === "class_definition") names.unshift(p.childForFieldName("name")?.text ?? "?");
  }
  return names.length > 0 ? names.join(".") : "<module>";
}

export function finding(rule: RuleId, node: SyntaxNode, message: string, fix: RawFinding["fix"] = null): RawFinding {
  return {
    rule,
    message,
    start: { line: node.startPosition.row + 1, column: node.startPosition.column + 1 },
    end: { line: node.endPosition.row + 1, column: node.endPosition.column + 1 },
    fix,
    scope: scopeOf(node),
  };
}

/** An identifier that refers to a variable (not `obj.name`, not `f(name=...)`'s keyword). */
export function isReference(id: SyntaxNode): boolean {
  const parent = id.parent;
  if (!parent) return true;
  if (parent.type === "attribute" && parent.childForFieldName("attribute")?.id === id.id) return false;
  if (parent.type === "keyword_argument" && parent.childForFieldName("name")?.id === id.id) return false;
  return true;
}
