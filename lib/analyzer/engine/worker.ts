import type { AnalyzeOptions, FileAnalysis, Language, SourceInput } from "../types.ts";
import { analyzeOne } from "./analyze.ts";

// An analysis worker process for the pool in run-scan.ts. Processes rather than
// threads: a file that exceeds the time limit may be deep inside native tree-sitter
// code, and only a process can be killed there safely.
type Init = { type: "init"; indexes: Record<string, unknown>; config: AnalyzeOptions["config"]; enabledRules: string[] };
type Work = { type: "file"; id: number; language: Language; file: SourceInput };

let indexes: Record<string, unknown> = {};
let options: AnalyzeOptions | null = null;

process.on("message", (message: Init | Work) => {
  if (message.type === "init") {
    indexes = message.indexes;
    options = { config: message.config, enabledRules: new Set(message.enabledRules) as AnalyzeOptions["enabledRules"] };
    process.send?.({ type: "ready" });
    return;
  }
  if (!options) return;
  const result: FileAnalysis = analyzeOne(message.language, message.file, indexes[message.language], options);
  process.send?.({ type: "result", id: message.id, result });
});
// The pool closes the channel when the scan is done.
process.on("disconnect", () => process.exit(0));
