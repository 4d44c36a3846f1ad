import type { AnalyzeOptions, FileAnalysis, LanguagePlugin, RawFinding, SourceInput } from "../types.ts";
import { buildPythonIndex, type PythonIndex } from "./build-index.ts";
import { createContext } from "./context.ts";
import { checkForbiddenImports, meta as forbiddenImportMeta } from "./forbidden-import.ts";
import { parsePython, syntaxError } from "./parse.ts";
import { pythonRules } from "./rules/index.ts";

// The Python language plugin: native tree-sitter, one parse per file, rules gated by
// a cheap text test so files that cannot match cost only their parse.
export const pythonPlugin: LanguagePlugin<PythonIndex> = {
  language: "python",
  extensions: [".py"],
  rules: [...pythonRules.map((r) => r.meta), forbiddenImportMeta],
  buildIndex(files: readonly SourceInput[], options: AnalyzeOptions): PythonIndex {
    return buildPythonIndex(files, options);
  },
  analyzeFile(file: SourceInput, index: PythonIndex, options: AnalyzeOptions): FileAnalysis {
    const tree = parsePython(file.text);
    const error = syntaxError(tree);
    if (error) return { findings: [], error };
    const rules = pythonRules.filter((rule) => options.enabledRules.has(rule.meta.id) && rule.applies(file.text));
    const checkImports = options.enabledRules.has("forbidden-import") && options.config.forbidden_imports.length > 0;
    if (rules.length === 0 && !checkImports) return { findings: [] };
    const ctx = createContext(file.path, file.text, tree, index, options);
    const findings: RawFinding[] = [];
    for (const rule of rules) findings.push(...rule.check(ctx));
    if (checkImports) findings.push(...checkForbiddenImports(ctx));
    return { findings: findings.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column) };
  },
  parseOnly(file: SourceInput): void {
    parsePython(file.text);
  },
};
