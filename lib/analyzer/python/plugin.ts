import type { AnalyzeOptions, FileAnalysis, ForbiddenImportConfig, LanguagePlugin, RawFinding, SourceInput } from "../types.ts";
import { buildPythonIndex, type PythonIndex } from "./build-index.ts";
import { createContext } from "./context.ts";
import { type LoweredFunction, nodeBudget } from "./flow/lower.ts";
import { checkForbiddenImports, meta as forbiddenImportMeta } from "./forbidden-import.ts";
import { parsePython, syntaxError } from "./parse.ts";
import { pythonRules } from "./rules/index.ts";

// The Python language plugin: native tree-sitter, one parse per file. A required-literal
// prefilter (like Semgrep's) skips the analysis of files that cannot hold an acquisition,
// a factory or a banned import: the literals come from the library models, the project
// index and the config. Those files are still parsed, because a file that does not parse
// is reported in the scan's errors (the CLI contract); the index pass does not parse them.

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
    const bans = options.config.forbidden_imports;
    const checkImports = options.enabledRules.has("forbidden-import") && bans.length > 0 && (banLiterals(bans)?.test(file.text) ?? true);
    // Beyond acquisitions: a session used after its `with` block, or handed to concurrent tasks.
    const text = file.text;
    const lifecycle = rules.length > 0 && (literals(index).test(text) || (/\bwith\b|gather|create_task|ensure_future/.test(text) && /session|\bdb\b/i.test(text)));
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
  parseOnly(file: SourceInput): void {
    parsePython(file.text);
  },
};
