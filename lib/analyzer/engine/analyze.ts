import type { AnalyzeOptions, FileAnalysis, LanguagePlugin, SourceInput } from "../types.ts";

// The per-file step, shared by the in-process path and the worker processes.
export function analyzeOne(plugin: LanguagePlugin, file: SourceInput, index: unknown, options: AnalyzeOptions, parsed?: unknown): FileAnalysis {
  try {
    return plugin.analyzeFile(file, index, options, parsed);
  } catch (error) {
    // A rule crashing on one file must not lose the rest of the scan.
    return { findings: [], error: `analysis failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}
