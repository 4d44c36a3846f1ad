import type { AnalyzeOptions, FileAnalysis, LanguagePlugin, RawFinding, SourceInput } from "../types.ts";
import { buildTypeScriptIndex, isIndexOnlyFile, type TypeScriptIndex } from "./build-index.ts";
import type { RuleContext } from "./context.ts";
import { checkForbiddenImports, forbiddenImportRuleMeta } from "./forbidden-import.ts";
import { parseOnlySource, parseSource, syntaxError, withParents, TYPESCRIPT_EXTENSIONS } from "./parse.ts";
import { acquisitionLiteral, asIdentifiers } from "./flow/analyze-file.ts";
import { emptyFlowIndex, modelsFor } from "./flow/file-facts.ts";
import { typescriptRules } from "./rules/index.ts";

// The TypeScript/JavaScript language plugin. Files are parsed one at a time with the
// TypeScript compiler bundled in ts-morph (no Program, no type checker), so analyzeFile
// is cheap, independent and safe to run in worker threads.
//
// Besides source files the plugin asks for `tsconfig.json`, `jsconfig.json` and
// `package.json`: buildIndex reads their `paths`/`baseUrl`/`extends` and package
// names to resolve imports; analyzeFile ignores them.

const INDEX_FILES = ["tsconfig.json", "jsconfig.json", "package.json"] as const;

export const typescriptPlugin: LanguagePlugin<TypeScriptIndex> = {
  language: "typescript",
  extensions: [...TYPESCRIPT_EXTENSIONS, ...INDEX_FILES],
  rules: [...typescriptRules.map((rule) => rule.meta), forbiddenImportRuleMeta],
  buildIndex(files: readonly SourceInput[], options: AnalyzeOptions): TypeScriptIndex {
    return buildTypeScriptIndex(files, options);
  },
  analyzeFile(file: SourceInput, index: TypeScriptIndex, options: AnalyzeOptions): FileAnalysis {
    if (isIndexOnlyFile(file.path)) return { findings: [] };
    try {
      return analyze(file, index, options);
    } catch (error) {
      // Thousands of nested blocks exhaust the stack, in TypeScript's own parser too;
      // report the file and let the scan go on.
      if (error instanceof RangeError) return { findings: [], error: `not analyzed: ${error.message} (code nested too deeply)` };
      throw error;
    }
  },
  parseOnly(file: SourceInput): void {
    if (isIndexOnlyFile(file.path)) return;
    try {
      parseOnlySource(file.path, file.text);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
  },
};

function analyze(file: SourceInput, index: TypeScriptIndex, options: AnalyzeOptions): FileAnalysis {
  const bare = parseSource(file.path, file.text, false);
  const error = syntaxError(bare);
  if (error) return { findings: [], error };
  // Files that cannot hold an acquisition (by the literals the models and the project's
  // summaries require) are not walked at all; most files of a repository.
  const rules = mayAcquire(file.text, index, options) ? typescriptRules.filter((rule) => options.enabledRules.has(rule.meta.id)) : [];
  const checkImports = options.enabledRules.has("forbidden-import") && options.config.forbidden_imports.length > 0;
  if (rules.length === 0 && !checkImports) return { findings: [] };
  const sourceFile = withParents(bare);
  const context: RuleContext = { path: file.path, text: file.text, sourceFile, index, options };
  const findings: RawFinding[] = [];
  for (const rule of rules) findings.push(...rule.check(context));
  if (checkImports) findings.push(...checkForbiddenImports(context));
  return { findings: findings.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column) };
}

const literals = new WeakMap<TypeScriptIndex, RegExp>();

function mayAcquire(text: string, index: TypeScriptIndex, options: AnalyzeOptions): boolean {
  let literal = literals.get(index);
  if (!literal) {
    literal = asIdentifiers(acquisitionLiteral({ registry: modelsFor(options).registry, flow: index.flow ?? emptyFlowIndex() }));
    literals.set(index, literal);
  }
  return literal.test(text);
}
