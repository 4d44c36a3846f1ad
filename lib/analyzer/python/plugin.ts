import type { AnalyzeOptions, FileAnalysis, ForbiddenImportConfig, LanguagePlugin, ParsedFiles, RawFinding, SourceInput } from "../types.ts";
import picomatch from "picomatch";
import { baseLiterals, buildPythonIndex, moduleName, type ParsedFile, type PythonIndex } from "./build-index.ts";
import { createContext } from "./context.ts";
import { type LoweredFunction, nodeBudget } from "./flow/lower.ts";
import { pythonRegistry } from "./flow/resolve.ts";
import { checkForbiddenImports, meta as forbiddenImportMeta } from "./forbidden-import.ts";
import { parsePython, type SyntaxNode, syntaxError } from "./parse.ts";
import { pythonRules } from "./rules/index.ts";

// The Python language plugin: native tree-sitter, one parse per file. A required-literal
// prefilter (like Semgrep's) skips files that cannot hold an acquisition, a factory or a
// banned import: the literals come from the library models, the project index and the
// config. Such a file is not parsed at all, so a syntax error in it is not reported: the
// scan's errors list the files Poolguard analysed that do not parse.

const literalCache = new Map<string, RegExp>();

function literals(index: PythonIndex): RegExp {
  let re = literalCache.get(index.literals);
  if (!re) {
    re = new RegExp(index.literals || "(?!)");
    literalCache.set(index.literals, re);
  }
  return re;
}

type BanNeeds = { always: boolean; words: RegExp | null; pathWords: Set<string>; scoped: { in: ((path: string) => boolean) | null; allow: ((path: string) => boolean) | null }[] };

const banCache = new WeakMap<readonly ForbiddenImportConfig[], BanNeeds | null>();

/** The bans that can apply to Python files: the config's own and import-linter contracts (ESLint policies are for TypeScript). */
function pythonBans(bans: readonly ForbiddenImportConfig[]): ForbiddenImportConfig[] {
  return bans.filter((ban) => !ban.policy || ban.policy.kind === "import-linter-forbidden");
}

/**
 * What a file must contain to hold a banned import (null: no ban applies to Python). An
 * import names the banned module's last component: `import a.b`, `from a import b`,
 * `from .b import c`; only a relative import takes components from the file's own path
 * (`from .. import x` inside a/b/c.py imports a.b.x), so those count when the text has a
 * relative import. import-linter patterns use their last component that is not a wildcard.
 */
function banNeeds(bans: readonly ForbiddenImportConfig[]): BanNeeds | null {
  if (banCache.has(bans)) return banCache.get(bans) ?? null;
  const relevant = pythonBans(bans);
  let needs: BanNeeds | null = null;
  if (relevant.length > 0) {
    const words = new Set<string>(["import_module"]);
    let always = false;
    const lastLiteral = (module: string) => {
      const parts = module.replace(/\.\*$/, "").split(/[./]/).filter((part) => part && part !== "*" && part !== "**");
      // Only wildcards: any import may match. A name no Python import can spell
      // (`react-email`) is reachable through importlib.import_module alone, a word already listed.
      if (parts.length === 0) always = true;
      else words.add(parts[parts.length - 1].replace(/[^\w]/g, ""));
    };
    for (const ban of relevant) {
      const policy = ban.policy;
      if (policy?.kind === "import-linter-forbidden") for (const forbidden of policy.forbidden_modules) lastLiteral(forbidden);
      else lastLiteral(ban.from);
      for (const name of ban.names ?? []) words.add(name.replace(/[^\w]/g, ""));
    }
    const scoped = relevant.map((ban) => ({
      in: ban.in?.length ? picomatch(ban.in, { dot: true }) : null,
      allow: ban.allow_in?.length ? picomatch(ban.allow_in, { dot: true }) : null,
    }));
    const list = [...words].filter(Boolean);
    needs = { always, words: new RegExp(list.map((w) => `\\b${w}\\b`).join("|")), pathWords: new Set(list), scoped };
  }
  banCache.set(bans, needs);
  return needs;
}

/** Can this file hold an import that a ban forbids? (false: forbidden-import has nothing to find in it) */
function mayImportBanned(file: SourceInput, options: AnalyzeOptions): boolean {
  if (!options.enabledRules.has("forbidden-import")) return false;
  const needs = banNeeds(options.config.forbidden_imports);
  if (!needs) return false;
  // A ban limited to some files (`in`) or lifted for some (`allow_in`) cannot apply elsewhere.
  if (!needs.scoped.some((s) => (!s.in || s.in(file.path)) && !s.allow?.(file.path))) return false;
  if (needs.always || needs.words?.test(file.text)) return true;
  return /\bfrom\s+\./.test(file.text) && moduleName(file.path).module.split(".").some((part) => needs.pathWords.has(part));
}

/** What the lifecycle rules look at besides the literals: a session used after its `with`, or handed to concurrent tasks. */
function lifecycleHint(text: string): boolean {
  return /\bwith\b|gather|create_task|ensure_future/.test(text) && /session|\bdb\b/i.test(text);
}

/**
 * Does analyzeFile look at this file at all? A file with neither is not parsed: nothing
 * in it can be found, and its syntax is nobody's business (the scan's errors list the
 * files it analysed that do not parse).
 */
function needsAnalysis(path: string, text: string, index: PythonIndex, options: AnalyzeOptions): { lifecycle: boolean; checkImports: boolean } {
  const checkImports = mayImportBanned({ path, text }, options);
  const lifecycle = pythonRules.some((rule) => options.enabledRules.has(rule.meta.id)) && (literals(index).test(text) || lifecycleHint(text));
  return { lifecycle, checkImports };
}

// By the config's content: each precheck message brings its own copy of the config.
const modelLiterals = new Map<string, RegExp>();

/** The literals that need no project index: the models' and the config's (a subset of every index's literals). */
function indexFreeLiterals(options: AnalyzeOptions): RegExp {
  const key = JSON.stringify([options.config.sessions, options.config.resources ?? []]);
  let re = modelLiterals.get(key);
  if (!re) {
    re = new RegExp(baseLiterals(pythonRegistry(options.config), options).join("|"));
    modelLiterals.set(key, re);
  }
  return re;
}

/** An index that knows nothing of the project, for the index-free precheck. */
function indexFreeIndex(options: AnalyzeOptions): PythonIndex {
  return {
    modules: {},
    attributes: {},
    keys: {},
    summaries: {},
    literals: "",
    configFactories: options.config.sessions.factories,
    configClosers: options.config.sessions.closers,
    moduleAliases: {},
  };
}

/** Is the finding inside a function that parsed without an error? */
function inWholeFunction(root: SyntaxNode, finding: RawFinding): boolean {
  let node: SyntaxNode | null = root.descendantForPosition({ row: finding.start.line - 1, column: finding.start.column - 1 });
  while (node && node.type !== "function_definition") node = node.parent;
  return node !== null && !node.hasError;
}

function tooLargeWarnings(functions: readonly LoweredFunction[]): { line: number; message: string }[] {
  return functions
    .filter((fn) => fn.truncated)
    .map((fn) => ({
      line: fn.fn.startPosition.row + 1,
      message: `function \`${fn.scope}\` is too large to analyse (its control flow exceeds ${nodeBudget.toLocaleString("en-US")} graph nodes); resource-lifecycle rules were not checked in it`,
    }));
}

export const pythonPlugin: LanguagePlugin<PythonIndex> = {
  language: "python",
  extensions: [".py"],
  rules: [...pythonRules.map((r) => r.meta), forbiddenImportMeta],
  buildIndex(files: readonly SourceInput[], options: AnalyzeOptions, parsed?: ParsedFiles): PythonIndex {
    return buildPythonIndex(files, options, {}, parsed as Map<string, ParsedFile> | undefined);
  },
  analyzeFile(file: SourceInput, index: PythonIndex, options: AnalyzeOptions, parsed?: unknown): FileAnalysis {
    const rules = pythonRules.filter((rule) => options.enabledRules.has(rule.meta.id));
    const text = file.text;
    const { lifecycle, checkImports } = needsAnalysis(file.path, text, index, options);
    if (!lifecycle && !checkImports) return { findings: [] };
    // The index's tree of this very text, when this process built the index: the same tree a parse gives.
    const kept = parsed as ParsedFile | undefined;
    const tree = kept && kept.text === text ? kept.tree : parsePython(file.text);
    const error = syntaxError(tree);
    if (error && !lifecycle) return { findings: [], error };
    const ctx = createContext(file.path, text, tree, index, options);
    const findings: RawFinding[] = [];
    if (lifecycle) for (const rule of rules) findings.push(...rule.check(ctx));
    if (error) {
      // Legacy syntax somewhere (Python 2's `print x`, `async` as a module name): the file is
      // reported, and the functions that parse whole are still checked, like Semgrep's
      // error recovery. Findings outside them are dropped, and none gets a fix (a fixed
      // file could not be re-parsed to prove it).
      const kept = findings.filter((f) => inWholeFunction(tree.rootNode, f)).map((f) => ({ ...f, fix: null }));
      return { findings: kept.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column), error };
    }
    if (checkImports) findings.push(...checkForbiddenImports(ctx));
    const sorted = findings.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column);
    // Functions too large to follow are not analysed: say so rather than report nothing silently.
    const warnings = lifecycle ? tooLargeWarnings(ctx.functions()) : [];
    return warnings.length > 0 ? { findings: sorted, warnings } : { findings: sorted };
  },
  // While the index is built, the engine has idle analysis processes look at the files
  // that name nothing of the models or the config: a file that cannot hold a banned import
  // either gets its answer (nothing to find, no parse) at once; one that may is parsed and
  // its imports checked. Once the index is known, a file that names none of its literals
  // either keeps that answer (analyzeFile's answer for it is the same).
  precheck(file: SourceInput, options: AnalyzeOptions): FileAnalysis | null {
    // Analysed whatever the index holds: not worth a parse now.
    if (indexFreeLiterals(options).test(file.text) || lifecycleHint(file.text)) return null;
    if (!mayImportBanned(file, options)) return { findings: [] };
    const tree = parsePython(file.text);
    const error = syntaxError(tree);
    if (error) return { findings: [], error };
    // Which imports a ban forbids needs no index (only the safety of a fix does): a file
    // with such an import is left to the analysis, one without keeps this answer.
    const ctx = createContext(file.path, file.text, tree, indexFreeIndex(options), options);
    if (checkForbiddenImports(ctx).length > 0) return null;
    return { findings: [] };
  },
  afterPrecheck(file: SourceInput, prechecked: FileAnalysis, index: PythonIndex, options: AnalyzeOptions): FileAnalysis | null {
    // analyzeFile answers a syntax error first; without a literal (the index learnt project
    // wrappers, attributes and keys) its findings are the banned imports, none here.
    if (prechecked.error) return prechecked;
    return needsAnalysis(file.path, file.text, index, options).lifecycle ? null : prechecked;
  },
  parseOnly(file: SourceInput): void {
    parsePython(file.text);
  },
};
