import type { ModelRegistry } from "../flow/models.ts";
import type { AnalyzeOptions, PoolguardConfig, RawFinding, RuleId, RuleMeta } from "../types.ts";
import { collectImports, moduleName, type PythonIndex } from "./build-index.ts";
import { callsInjectedFactory, type LoweredFunction, lowerFunction, scopeOf } from "./flow/lower.ts";
import { ModuleResolver, pythonRegistry } from "./flow/resolve.ts";
import type { SyntaxNode, Tree } from "./parse.ts";

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

export function createContext(path: string, text: string, tree: Tree, index: PythonIndex, options: AnalyzeOptions): PythonRuleContext {
  const { module, isPackage } = moduleName(path);
  const root = tree.rootNode;
  const imports = collectImports(root, module, isPackage);
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
      // Only functions that mention a required literal can acquire, enter or hand out anything.
      const relevant = relevantPattern(index);
      lowered ??= root
        .descendantsOfType("function_definition")
        .filter((fn) => {
          const text = fn.text;
          return relevant.test(text) || (/\bwith\b/.test(text) && /session|\bdb\b/i.test(text)) || callsInjectedFactory(fn, relevant);
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
