import { plugins } from "../plugins.ts";
import type { AnalyzeOptions, FileAnalysis, Language, SourceInput } from "../types.ts";

// The per-file step, shared by the in-process path and the worker threads.
export function pluginFor(language: Language) {
  const plugin = plugins.find((p) => p.language === language);
  if (!plugin) throw new Error(`no plugin for ${language}`);
  return plugin;
}

export function analyzeOne(language: Language, file: SourceInput, index: unknown, options: AnalyzeOptions): FileAnalysis {
  try {
    return pluginFor(language).analyzeFile(file, index, options);
  } catch (error) {
    // A rule crashing on one file must not lose the rest of the scan.
    return { findings: [], error: `analysis failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}
