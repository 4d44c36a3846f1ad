import { loadPlugin } from "../plugins.ts";
import type { AnalyzeOptions, FileAnalysis, Language, LanguagePlugin, SourceInput } from "../types.ts";
import { analyzeOne } from "./analyze.ts";

// An analysis worker process for the pool in run-scan.ts. Processes rather than
// threads: a file that exceeds the time limit may be deep inside native tree-sitter
// code, and only a process can be killed there safely. Plugins load on demand.
type Init = { type: "init"; indexes: Record<string, unknown>; config: AnalyzeOptions["config"]; enabledRules: string[]; languages: Language[] };
type Work = { type: "file"; id: number; language: Language; file: SourceInput };

const plugins = new Map<Language, LanguagePlugin>();
let indexes: Record<string, unknown> = {};
let options: AnalyzeOptions | null = null;
let analysedBytes = 0;
const gcEveryBytes = 4 * 1024 * 1024;
const queue: Work[] = [];
let ready = false;

function analyze(work: Work): FileAnalysis {
  const plugin = plugins.get(work.language);
  if (!plugin || !options) return { findings: [], error: `no plugin loaded for ${work.language}` };
  return analyzeOne(plugin, work.file, indexes[work.language], options);
}

function drain() {
  while (ready && queue.length > 0) {
    const work = queue.shift() as Work;
    process.send?.({ type: "result", id: work.id, result: analyze(work) });
    analysedBytes += work.file.text.length;
    if (analysedBytes > gcEveryBytes && typeof globalThis.gc === "function") {
      analysedBytes = 0;
      globalThis.gc();
    }
  }
}

process.on("message", async (message: Init | Work) => {
  if (message.type === "file") {
    queue.push(message);
    drain();
    return;
  }
  indexes = message.indexes;
  options = { config: message.config, enabledRules: new Set(message.enabledRules) as AnalyzeOptions["enabledRules"] };
  for (const language of message.languages) plugins.set(language, await loadPlugin(language));
  ready = true;
  process.send?.({ type: "ready" });
  drain();
});
// The pool closes the channel when the scan is done.
process.on("disconnect", () => process.exit(0));
// A failure outside one file's analysis ends this process with one line, not a stack
// trace in the user's log; the pool reports the files it held as not analysed.
const die = (error: unknown) => {
  process.stderr.write(`poolguard: an analysis process failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(70);
};
process.on("uncaughtException", die);
process.on("unhandledRejection", die);
