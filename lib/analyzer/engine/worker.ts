import { loadPlugin } from "../plugins.ts";
import type { AnalyzeOptions, FileAnalysis, Language, LanguagePlugin, ParsedFiles, SourceInput } from "../types.ts";
import { analyzeOne } from "./analyze.ts";

// An analysis worker process for the pool in run-scan.ts. Processes rather than
// threads: a file that exceeds the time limit may be deep inside native tree-sitter
// code, and only a process can be killed there safely. Plugins load on demand.
/** KEEP: in the process that built an index, the paths whose trees to keep for the analysis (the rest are dropped). */
type Init = { type: "init"; indexes: Record<string, unknown>; config: AnalyzeOptions["config"]; enabledRules: string[]; languages: Language[]; keep?: string[] };
type Work = { type: "file"; id: number; language: Language; file: SourceInput };
/** Build one language's index and send it back (a process of its own: see run-scan.ts). */
type IndexJob = { type: "index"; language: Language; files: SourceInput[]; config: AnalyzeOptions["config"]; enabledRules: string[] };
/** The index-free part of some files' analysis, run while an index is built (see run-scan.ts). */
type PrecheckJob = {
  type: "precheck";
  language: Language;
  items: { id: number; file: SourceInput }[];
  config: AnalyzeOptions["config"];
  enabledRules: string[];
};

/**
 * A message to the pool. The pool closes the channel once every file has its answer, which
 * can happen before this process has even said it is ready (the other processes did all
 * the work): a reply into the closed channel is dropped, not an error that ends the
 * process with a message in the user's log.
 */
function reply(message: unknown): void {
  if (!process.connected || !process.send) return;
  process.send(message, undefined, undefined, () => {});
}

const plugins = new Map<Language, LanguagePlugin>();
let indexes: Record<string, unknown> = {};
let options: AnalyzeOptions | null = null;
let analysedBytes = 0;
const gcEveryBytes = 2 * 1024 * 1024;
const queue: Work[] = [];
let ready = false;
// What this process's index build parsed, by path, while its files wait for their analysis here.
let parsedByIndex: { language: Language; files: ParsedFiles } | null = null;

function analyze(work: Work): FileAnalysis {
  const plugin = plugins.get(work.language);
  if (!plugin || !options) return { findings: [], error: `no plugin loaded for ${work.language}` };
  let parsed: unknown;
  if (parsedByIndex?.language === work.language) {
    parsed = parsedByIndex.files.get(work.file.path);
    parsedByIndex.files.delete(work.file.path);
  }
  return analyzeOne(plugin, work.file, indexes[work.language], options, parsed);
}

let draining = false;

// N-API finalizers, which free the native tree-sitter trees, run only when the event
// loop turns after a garbage collection (node defers them to an immediate). A worker
// that keeps draining a full queue never turned it and kept every tree it had parsed:
// about 0.5 MB per Python file. So after each forced collection it yields once.
const turn = () => new Promise<void>((resolveTurn) => setImmediate(resolveTurn));

async function drain() {
  if (draining) return;
  draining = true;
  try {
    while (ready && queue.length > 0) {
      const work = queue[0];
      if (!plugins.has(work.language)) {
        // A language's plugin loads with its first file here (the TypeScript compiler takes
        // a second or more): a process sent only Python files never loads it. The file's
        // time limit is held while the plugin loads, as it was when plugins loaded at init.
        reply({ type: "loading", language: work.language });
        plugins.set(work.language, await loadPlugin(work.language));
        reply({ type: "loaded", language: work.language });
      }
      queue.shift();
      reply({ type: "result", id: work.id, result: analyze(work) });
      analysedBytes += work.file.text.length;
      if (analysedBytes > gcEveryBytes && typeof globalThis.gc === "function") {
        analysedBytes = 0;
        globalThis.gc();
        await turn();
      }
    }
  } finally {
    draining = false;
  }
}

let precheckedBytes = 0;

async function precheck(job: PrecheckJob) {
  const plugin = await loadPlugin(job.language);
  const precheckOptions = { config: job.config, enabledRules: new Set(job.enabledRules) as AnalyzeOptions["enabledRules"] };
  const results = job.items.map(({ id, file }) => {
    precheckedBytes += file.text.length;
    try {
      return { id, result: plugin.precheck?.(file, precheckOptions) ?? null };
    } catch {
      // Left to the full analysis, which reports the failure the usual way.
      return { id, result: null };
    }
  });
  reply({ type: "prechecked", results });
  // Every megabyte: this runs beside the index process, when the scan's memory peaks.
  if (precheckedBytes > gcEveryBytes / 2 && typeof globalThis.gc === "function") {
    precheckedBytes = 0;
    globalThis.gc();
    await turn();
  }
}

process.on("message", async (message: Init | Work | IndexJob | PrecheckJob) => {
  if (message.type === "precheck") {
    await precheck(message);
    return;
  }
  if (message.type === "index") {
    const plugin = await loadPlugin(message.language);
    const parsed: ParsedFiles = new Map();
    const index = plugin.buildIndex(message.files, { config: message.config, enabledRules: new Set(message.enabledRules) as AnalyzeOptions["enabledRules"] }, parsed);
    parsedByIndex = { language: message.language, files: parsed };
    // The pool may keep this process for the analysis, sending it first the files parsed
    // here, if its memory once the build's garbage is gone leaves room for that.
    if (typeof globalThis.gc === "function") {
      globalThis.gc();
      await turn();
    }
    reply({ type: "index", index, parsed: [...parsed.keys()], rss: process.memoryUsage().rss });
    return;
  }
  if (message.type === "file") {
    queue.push(message);
    void drain();
    return;
  }
  indexes = message.indexes;
  options = { config: message.config, enabledRules: new Set(message.enabledRules) as AnalyzeOptions["enabledRules"] };
  if (parsedByIndex) {
    // Trees of files this process will not analyse are garbage: free them before the analysis.
    const keep = new Set(message.keep ?? []);
    for (const path of [...parsedByIndex.files.keys()]) if (!keep.has(path)) parsedByIndex.files.delete(path);
    if (typeof globalThis.gc === "function") {
      globalThis.gc();
      await turn();
    }
  }
  ready = true;
  reply({ type: "ready" });
  void drain();
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
