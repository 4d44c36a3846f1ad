import type { AnalyzeOptions, FileAnalysis, ForbiddenImportConfig, LanguagePlugin, RawFinding, SourceInput } from "../types.ts";
import { baseLiterals, buildPythonIndex, type PythonIndex } from "./build-index.ts";
import { createContext } from "./context.ts";
import { type LoweredFunction, nodeBudget } from "./flow/lower.ts";
import { pythonRegistry } from "./flow/resolve.ts";
import { checkForbiddenImports, meta as forbiddenImportMeta } from "./forbidden-import.ts";
import { parsePython, syntaxError } from "./parse.ts";
import { pythonRules } from "./rules/index.ts";

// The Python language plugin: native tree-sitter, one parse per file. A required-literal
// prefilter (like Semgrep's) skips the analysis of files that cannot hold an acquisition,
// a factory or a banned import: the literals come from the library models, the project
// index and the config. Those files are still parsed, because a file that does not parse
// is reported in the scan's errors (the CLI contract); the index pass does not parse them,
// and on a large scan the engine has them parsed while the index is built (precheck).

const literalCache = new Map<string, RegExp>();

function literals(index: PythonIndex): RegExp {
  let re = literalCache.get(index.literals);
  if (!re) {
    re = new RegExp(index.literals || "(?!)");
    literalCache.set(index.literals, re);
  }
  return re;
}

const banCache = new WeakMap<readonly ForbiddenImportConfig[], RegExp | null>();

/** Words a file must contain to hold a banned import (null: cannot tell, always parse). */
function banLiterals(bans: readonly ForbiddenImportConfig[]): RegExp | null {
  if (banCache.has(bans)) return banCache.get(bans) ?? null;
  let re: RegExp | null = null;
  if (!bans.some((b) => (b as { policy?: unknown }).policy)) {
    const words = new Set<string>(["import_module"]);
    for (const ban of bans) {
      const parts = ban.from.replace(/\.\*$/, "").split(/[./]/).filter(Boolean);
      if (parts.length > 0) words.add(parts[parts.length - 1]);
      for (const name of ban.names ?? []) words.add(name);
    }
    re = new RegExp([...words].map((w) => `\\b${w.replace(/[^\w]/g, "")}\\b`).join("|"));
  }
  banCache.set(bans, re);
  return re;
}

/** What the lifecycle rules look at besides the literals: a session used after its `with`, or handed to concurrent tasks. */
function lifecycleHint(text: string): boolean {
  return /\bwith\b|gather|create_task|ensure_future/.test(text) && /session|\bdb\b/i.test(text);
}

/** Does analyzeFile look beyond the syntax check of this file? (false: its answer is the parse's verdict alone) */
function needsAnalysis(text: string, index: PythonIndex, options: AnalyzeOptions): { lifecycle: boolean; checkImports: boolean } {
  const bans = options.config.forbidden_imports;
  const checkImports = options.enabledRules.has("forbidden-import") && bans.length > 0 && (banLiterals(bans)?.test(text) ?? true);
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
  buildIndex(files: readonly SourceInput[], options: AnalyzeOptions): PythonIndex {
    return buildPythonIndex(files, options);
  },
  analyzeFile(file: SourceInput, index: PythonIndex, options: AnalyzeOptions): FileAnalysis {
    const rules = pythonRules.filter((rule) => options.enabledRules.has(rule.meta.id));
    const text = file.text;
    const { lifecycle, checkImports } = needsAnalysis(text, index, options);
    const tree = parsePython(file.text);
    const error = syntaxError(tree);
    if (error) return { findings: [], error };
    if (!lifecycle && !checkImports) return { findings: [] };
    const ctx = createContext(file.path, text, tree, index, options);
    const findings: RawFinding[] = [];
    if (lifecycle) for (const rule of rules) findings.push(...rule.check(ctx));
    if (checkImports) findings.push(...checkForbiddenImports(ctx));
    const sorted = findings.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column);
    // Functions too large to follow are not analysed: say so rather than report nothing silently.
    const warnings = lifecycle ? tooLargeWarnings(ctx.functions()) : [];
    return warnings.length > 0 ? { findings: sorted, warnings } : { findings: sorted };
  },
  // While the index is built, the engine has idle analysis processes check that the files
  // that name nothing of the models or the config parse; once the index is known, a file
  // that names none of its literals either keeps that answer (analyzeFile's answer for it
  // is the parse's verdict alone), so most files of a large code base are parsed once, on
  // a core the index leaves idle.
  precheck(file: SourceInput, options: AnalyzeOptions): FileAnalysis | null {
    // Analysed whatever the index holds: not worth a parse now.
    if (indexFreeLiterals(options).test(file.text) || lifecycleHint(file.text)) return null;
    const tree = parsePython(file.text);
    const error = syntaxError(tree);
    if (error) return { findings: [], error };
    const bans = options.config.forbidden_imports;
    if (options.enabledRules.has("forbidden-import") && bans.length > 0 && (banLiterals(bans)?.test(file.text) ?? true)) {
      // Which imports a ban forbids needs no index (only the safety of a fix does): a file
      // with such an import is left to the analysis, one without keeps this answer.
      const ctx = createContext(file.path, file.text, tree, indexFreeIndex(options), options);
      if (checkForbiddenImports(ctx).length > 0) return null;
    }
    return { findings: [] };
  },
  afterPrecheck(file: SourceInput, prechecked: FileAnalysis, index: PythonIndex, options: AnalyzeOptions): FileAnalysis | null {
    // analyzeFile answers a syntax error first; without a literal (the index learnt project
    // wrappers, attributes and keys) its findings are the banned imports, none here.
    if (prechecked.error) return prechecked;
    return needsAnalysis(file.text, index, options).lifecycle ? null : prechecked;
  },
  parseOnly(file: SourceInput): void {
    parsePython(file.text);
  },
};
