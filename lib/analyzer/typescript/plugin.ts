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
      if (error instanceof RangeError) return { findings: [], error: nestedTooDeeply(error) };
      throw error;
    }
  },
  precheck(file: SourceInput, options: AnalyzeOptions): FileAnalysis | null {
    if (isIndexOnlyFile(file.path)) return { findings: [] };
    // A file that names a library callable is analysed whatever the index holds.
    if (checksImports(options) || modelLiteral(options).test(file.text)) return null;
    try {
      const error = syntaxError(parseSource(file.path, file.text, false));
      return error ? { findings: [], error } : { findings: [] };
    } catch (error) {
      if (error instanceof RangeError) return { findings: [], error: nestedTooDeeply(error) };
      throw error;
    }
  },
  afterPrecheck(file: SourceInput, prechecked: FileAnalysis, index: TypeScriptIndex, options: AnalyzeOptions): FileAnalysis | null {
    // What analyze() answers first: the syntax error, then "nothing to look at" unless the
    // file names one of the project's wrappers the index learnt.
    if (prechecked.error || isIndexOnlyFile(file.path)) return prechecked;
    return mayAcquire(file.text, index, options) ? null : prechecked;
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
  const checkImports = checksImports(options);
  if (rules.length === 0 && !checkImports) return { findings: [] };
  const sourceFile = withParents(bare);
  const context: RuleContext = { path: file.path, text: file.text, sourceFile, index, options };
  const findings: RawFinding[] = [];
  for (const rule of rules) findings.push(...rule.check(context));
  if (checkImports) findings.push(...checkForbiddenImports(context));
  return { findings: findings.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column) };
}

function nestedTooDeeply(error: RangeError): string {
  return `not analyzed: ${error.message} (code nested too deeply)`;
}

function checksImports(options: AnalyzeOptions): boolean {
  return options.enabledRules.has("forbidden-import") && options.config.forbidden_imports.length > 0;
}

const modelLiterals = new WeakMap<AnalyzeOptions["config"], RegExp>();

/** The models' acquiring callables alone (no project wrappers): what a precheck can know. */
function modelLiteral(options: AnalyzeOptions): RegExp {
  let literal = modelLiterals.get(options.config);
  if (!literal) {
    literal = asIdentifiers(acquisitionLiteral({ registry: modelsFor(options).registry, flow: emptyFlowIndex() }));
    modelLiterals.set(options.config, literal);
  }
  return literal;
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
