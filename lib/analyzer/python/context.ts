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
  let imports: Record<string, string> | null = null;
  return {
    path,
    text,
    lines: text.split("\n"),
    tree,
    root,
    index,
    options,
    module,
    // Computed on first use: most files never ask for a call's origin.
    get imports() {
      imports ??= collectImports(root, module, isPackage);
      return imports;
    },
  };
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
  // sessionmaker(...) and create_sessionmaker(...)-style helpers make a factory, not a session.
  if (/^(async_)?(sessionmaker|scoped_session)$|^async_scoped_session$/.test(lastSegment(callee))) return null;
  if (/^(create|make|get|build|new|init)_\w*(session_?maker|session_?factory)$/i.test(lastSegment(callee))) return null;
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
    // Session(bind=connection) borrows a connection someone else owns (Alembic's
    // op.get_bind(), a test transaction): closing the session returns nothing.
    if (bindsBorrowedConnection(call)) return null;
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

/** What a rule needs to know about the function around an acquisition. */
export function describeFunction(fn: SyntaxNode): FunctionInfo {
  const names: string[] = [];
  for (let p: SyntaxNode | null = fn; p; p = p.parent) {
    if (p.type === "function_definition" || p.type === "class_definition") names.unshift(p.childForFieldName("name")?.text ?? "?");
  }
  const decorators =
    fn.parent?.type === "decorated_definition"
      ? fn.parent.namedChildren.filter((c) => c.type === "decorator").map((d) => d.text.replace(/^@/, "").replace(/\(.*$/s, ""))
      : [];
  const isGenerator = fn.descendantsOfType("yield").some((y) => enclosingFunction(y)?.id === fn.id);
  return { node: fn, name: names[names.length - 1], qualifiedName: names.join("."), isAsync: isAsyncNode(fn), isGenerator, decorators };
}

export type FunctionInfo = { node: SyntaxNode; name: string; qualifiedName: string; isAsync: boolean; isGenerator: boolean; decorators: string[] };

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

/**
 * Nodes of a type that start on lines matching a regular expression. Rules look for
 * rare constructs; asking tree-sitter only about the lines that can hold them is far
 * cheaper than walking every node of the file from JavaScript.
 */
export function nodesOnMatchingLines(ctx: PythonRuleContext, lineFilter: RegExp, type: string): SyntaxNode[] {
  const nodes: SyntaxNode[] = [];
  const seen = new Set<number>();
  for (let row = 0; row < ctx.lines.length; row++) {
    if (!lineFilter.test(ctx.lines[row])) continue;
    for (const node of ctx.root.descendantsOfType(type, { row, column: 0 }, { row: row + 1, column: 0 })) {
      if (node.startPosition.row !== row || seen.has(node.id)) continue;
      seen.add(node.id);
      nodes.push(node);
    }
  }
  return nodes;
}

const conventionalFactoryCall = "SessionLocal|AsyncSessionLocal|\\w*session_?factory|\\w*[Ss]ession_?[Mm]aker\\w*|async_session|Session|AsyncSession";

/** Lines that may call a session factory: conventional names, names the index knows, config entries and their import aliases. */
export function factoryCallLines(ctx: PythonRuleContext): RegExp {
  const names = new Set<string>();
  for (const facts of Object.values(ctx.index.modules)) {
    for (const [name, binding] of Object.entries(facts.bindings)) if (binding.kind === "factory") names.add(name);
  }
  for (const name of Object.keys(ctx.index.attributeFactories)) names.add(name);
  for (const entry of ctx.options.config.sessions.factories) names.add(lastSegment(entry));
  const escaped = [...names].map((n) => n.replace(/[^\w]/g, ""));
  if (escaped.length > 0) {
    const aliases = new RegExp(`\\b(?:${escaped.join("|")})\\s+as\\s+(\\w+)`, "g");
    for (const match of ctx.text.matchAll(aliases)) names.add(match[1]);
  }
  const all = [conventionalFactoryCall, ...[...names].map((n) => n.replace(/[^\w]/g, ""))].join("|");
  return new RegExp(`=\\s*(?:await\\s+)?[\\w.]*\\b(?:${all})\\s*\\(`);
}

/** `Session(bind=conn)` / `Session(conn)` where the bind is not an engine. */
export function bindsBorrowedConnection(call: SyntaxNode): boolean {
  const args = call.childForFieldName("arguments")?.namedChildren ?? [];
  const bind = args.find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === "bind")?.childForFieldName("value") ?? (args[0]?.type !== "keyword_argument" ? args[0] : undefined);
  if (!bind) return false;
  return !/engine/i.test(bind.text);
}
