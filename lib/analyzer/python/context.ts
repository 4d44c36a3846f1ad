import type { ModelRegistry } from "../flow/models.ts";
import type { AnalyzeOptions, PoolguardConfig, RawFinding, RuleId, RuleMeta } from "../types.ts";
import { collectImports, moduleName, type PythonIndex } from "./build-index.ts";
import { callsInjectedFactory, type LoweredFunction, lowerFunction, scopeOf } from "./flow/lower.ts";
import { ModuleResolver, pythonRegistry } from "./flow/resolve.ts";
import { nodesByKeyword, type SyntaxNode, type Tree } from "./parse.ts";

export { scopeOf } from "./flow/lower.ts";

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
  registry: ModelRegistry;
  resolver: ModuleResolver;
  /** Every function of the file, lowered and analysed once (shared by the rules). */
  functions: () => LoweredFunction[];
};

export type PythonRule = {
  meta: RuleMeta;
  check: (ctx: PythonRuleContext) => RawFinding[];
};

const registries = new WeakMap<PoolguardConfig, ModelRegistry>();
const patterns = new Map<string, RegExp>();

function relevantPattern(index: PythonIndex): RegExp {
  let re = patterns.get(index.literals);
  if (!re) {
    re = new RegExp(index.literals || "(?!)");
    patterns.set(index.literals, re);
  }
  return re;
}

function registryFor(config: PoolguardConfig): ModelRegistry {
  let registry = registries.get(config);
  if (!registry) {
    registry = pythonRegistry(config);
    registries.set(config, registry);
  }
  return registry;
}

/** `as session`, `as db_session`, `as sess`, `as db`: the names a `with` of an unknown call binds a session to. */
const sessionAlias = /\bas\s+\(?\s*(?:\w*session\w*|sess|db)\b/i;

/** Local names the file imports a literal callable under (`from x import AsyncSession as DbSession`), as one pattern. */
function aliasesOfLiterals(imports: Record<string, string>, relevant: RegExp): RegExp | null {
  const names: string[] = [];
  for (const [local, qualified] of Object.entries(imports)) {
    const name = qualified.slice(qualified.lastIndexOf(".") + 1);
    if (local !== name && /^\w+$/.test(local) && relevant.test(`${name}(`)) names.push(local);
  }
  return names.length > 0 ? new RegExp(`\\b(?:${names.join("|")})\\b`) : null;
}

const wrapperPatterns = new WeakMap<PythonIndex, RegExp | null>();

/**
 * Calls of project functions that hand out or enter a resource but are not among the
 * index's literals (names too common to search the code base for, such as `session()`).
 */
function unlistedWrappers(index: PythonIndex, relevant: RegExp): RegExp | null {
  if (wrapperPatterns.has(index)) return wrapperPatterns.get(index) ?? null;
  const names = new Set<string>();
  for (const [qualified, summary] of Object.entries(index.summaries)) {
    if (summary.returnsFresh === null && summary.yieldsType === null && summary.entersParams.length === 0) continue;
    const name = qualified.slice(qualified.lastIndexOf(".") + 1);
    if (/^\w+$/.test(name) && !relevant.test(`${name}(`)) names.add(name);
  }
  const pattern = names.size > 0 ? new RegExp(`\\b(?:${[...names].join("|")})\\s*\\(`) : null;
  wrapperPatterns.set(index, pattern);
  return pattern;
}

const functionTypes = ["function_definition"];

export function createContext(path: string, text: string, tree: Tree, index: PythonIndex, options: AnalyzeOptions): PythonRuleContext {
  const { module, isPackage } = moduleName(path);
  const root = tree.rootNode;
  const imports = collectImports(root, module, isPackage, text);
  const registry = registryFor(options.config);
  const resolver = new ModuleResolver(index, module, imports, registry, (q) => index.summaries[q], index.modules[module]?.bindings ?? {});
  let lowered: LoweredFunction[] | null = null;
  return {
    path,
    text,
    lines: text.split("\n"),
    tree,
    root,
    index,
    options,
    module,
    imports,
    registry,
    resolver,
    functions() {
      // Only functions that mention a required literal can acquire, enter or hand out
      // anything. Besides those, a `with` whose value nothing resolves counts as a session
      // when it binds a session-like name (`with get_db() as db`), and a model's callable
      // may go by an import alias (`AsyncSession as DbSession`): a function with `with`
      // and neither has nothing the rules look at.
      if (lowered) return lowered;
      const relevant = relevantPattern(index);
      const aliased = aliasesOfLiterals(imports, relevant);
      const wrappers = unlistedWrappers(index, relevant);
      // In a file with a syntax error only the functions that parse whole are followed.
      const broken = root.hasError;
      lowered = nodesByKeyword(root, text, "def", functionTypes)
        .filter((fn) => {
          if (broken && fn.hasError) return false;
          const text = fn.text;
          if (relevant.test(text) || callsInjectedFactory(fn, relevant)) return true;
          if (!/\bwith\b/.test(text) || !/session|\bdb\b/i.test(text)) return false;
          return sessionAlias.test(text) || (aliased !== null && aliased.test(text)) || (wrappers !== null && wrappers.test(text));
        })
        .map((fn) => lowerFunction(fn, resolver, "analyze"));
      return lowered;
    },
  };
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
