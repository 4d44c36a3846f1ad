import { execFileSync } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import picomatch from "picomatch";
import { defaultTestsConfig, loadConfig } from "../config/load-config.ts";
import { applyFileFixes, type DroppedFix } from "../fix/apply-fixes.ts";
import { loadPlugin, pluginEntries } from "../plugins.ts";
import { listRules } from "../rules.ts";
import type {
  AnalyzeOptions,
  FileAnalysis,
  Finding,
  Language,
  LanguagePlugin,
  ParsedFiles,
  PoolguardConfig,
  RawFinding,
  RuleId,
  ScanError,
  ScanResult,
  SkippedFile,
  SourceInput,
} from "../types.ts";
import { poolguardVersion } from "../version.ts";
import { analyzeOne } from "./analyze.ts";
import { discoverFiles, hasBom, readSource } from "./discover.ts";
import { fingerprintFindings } from "./fingerprint.ts";
import { parseSuppressions } from "./suppressions.ts";

export type FixMode = "none" | "safe" | "unsafe";

export type ScanOptions = {
  root: string;
  /** Report only these paths (files or folders; relative to cwd or absolute). */
  only?: string[];
  /** Report only files changed since this git ref (plus untracked files). */
  changedSince?: string;
  configPath?: string;
  /** Use this config instead of reading one from the repository. */
  config?: PoolguardConfig;
  jobs?: number;
  fix?: FixMode;
  /** Write fixed files to disk (the CLI's --fix). Otherwise fixes are only computed. */
  writeFixes?: boolean;
  /** Called with each file's text before and after its fixes (the CLI's --fix --diff). */
  onFixedFile?: (path: string, before: string, after: string) => void;
  maxFileBytes?: number;
  fileTimeoutMs?: number;
  onProgress?: (progress: { filesDone: number; filesTotal: number }) => void;
};

export type ScanWarning = { path: string; line: number; message: string };

export type FixSummary = {
  files: { path: string; fixed: { rule: RuleId; line: number }[] }[];
  dropped: (DroppedFix & { path: string })[];
};

export type FullScanResult = ScanResult & {
  skipped: SkippedFile[];
  warnings: ScanWarning[];
  fixes?: FixSummary;
};

/** A usage problem (bad root, unknown git ref): the CLI maps it to exit status 2. */
export class ScanUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScanUsageError";
  }
}

type Job = { language: Language; file: SourceInput };

// Small scans run in this thread: starting workers costs more than it saves.
const inProcessBelow = 48;
const inflightPerWorker = 8;

function fileNamesAndExtensions() {
  const extensions = new Set<string>();
  const fileNames = new Set<string>();
  const byExtension = new Map<string, Language>();
  for (const plugin of pluginEntries) {
    for (const entry of plugin.extensions) {
      if (entry.startsWith(".")) {
        extensions.add(entry);
        byExtension.set(entry, plugin.language);
      } else {
        fileNames.add(entry);
        byExtension.set(entry, plugin.language);
      }
    }
  }
  return { extensions, fileNames, byExtension };
}

function languageOf(path: string, byExtension: Map<string, Language>): Language | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const exact = byExtension.get(name);
  if (exact) return exact;
  const dot = name.lastIndexOf(".");
  return dot > 0 ? byExtension.get(name.slice(dot)) : undefined;
}

function changedFiles(root: string, ref: string): Set<string> {
  const git = (args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  try {
    git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  } catch {
    throw new ScanUsageError(`--changed-since: "${ref}" is not a commit in the git repository at ${root}`);
  }
  const changed = git(["diff", "--name-only", "--relative", ref]).split("\n");
  const untracked = git(["ls-files", "--others", "--exclude-standard"]).split("\n");
  return new Set([...changed, ...untracked].map((p) => p.trim()).filter(Boolean));
}

function reportFilter(root: string, options: ScanOptions): ((path: string) => boolean) | null {
  const filters: ((path: string) => boolean)[] = [];
  if (options.only && options.only.length > 0) {
    const wanted = options.only.map((p) => {
      const absolute = isAbsolute(p) ? p : resolve(process.cwd(), p);
      const insideRoot = relative(root, absolute).split(sep).join("/");
      // A path that is not under ROOT from the cwd is taken as relative to ROOT.
      return insideRoot.startsWith("..") ? p.replace(/^\.\//, "").replace(/\/$/, "") : insideRoot;
    });
    filters.push((path) => wanted.some((w) => w === "" || path === w || path.startsWith(`${w}/`)));
  }
  if (options.changedSince) {
    const changed = changedFiles(root, options.changedSince);
    filters.push((path) => changed.has(path));
  }
  return filters.length > 0 ? (path) => filters.every((f) => f(path)) : null;
}

let forcedGc: (() => void) | null = null;

/**
 * A full garbage collection, then one turn of the event loop: native tree-sitter trees
 * are freed by N-API finalizers, which node runs only after the loop turns.
 */
function releaseGarbage(): Promise<void> {
  if (!forcedGc) {
    if (typeof globalThis.gc === "function") forcedGc = globalThis.gc as () => void;
    else {
      setFlagsFromString("--expose-gc");
      forcedGc = runInNewContext("gc") as () => void;
    }
  }
  forcedGc();
  return new Promise((resolveTurn) => setImmediate(resolveTurn));
}

/** An index, and the files whose trees its process still holds, if it was KEPT (see IndexWorker). */
type BuiltIndex = { index: unknown; parsed: string[]; kept: boolean };

/**
 * The most memory (RSS) an index process may hold after its build and stay on for the
 * analysis. A process does not give memory back: on a million-line repository the index
 * process holds more than a gigabyte, and is better replaced by a fresh one.
 */
const keptIndexProcessBytes = 640 * 1024 * 1024;

/**
 * The process that built the main language's index, kept as an analysis process: it holds
 * the trees it parsed, so the files it parsed are sent to it first and not parsed again,
 * and the scan starts one process fewer. It stays only if its memory after the build is
 * moderate (keptIndexProcessBytes).
 */
type IndexWorker = { child: ChildProcess; language: Language; parsed: Set<string> };

/**
 * One language's index built in a process of its own that exits afterwards (or, with
 * KEEP, stays to analyse the files it parsed: see IndexWorker): building it
 * parses and summarises much of the repository at once, and a process that did that
 * keeps the memory (the heap and the native allocator do not give it back), which on a
 * million-line repository added a gigabyte to the scan's peak. Same code as in-process.
 */
function buildIndexInProcess(child: ChildProcess, language: Language, files: SourceInput[], options: AnalyzeOptions, keep = false): Promise<BuiltIndex> {
  return new Promise((resolveIndex, reject) => {
    let settled = false;
    child.on("message", (message: { type: string; index?: unknown; parsed?: string[]; rss?: number }) => {
      if (message.type !== "index") return;
      settled = true;
      // A process that holds much memory after its build would add it to the analysis's peak.
      const kept = keep && (message.rss ?? Number.POSITIVE_INFINITY) <= keptIndexProcessBytes;
      if (process.env.POOLGUARD_DEBUG_INDEX) console.error(`[index] ${language}: process RSS ${Math.round((message.rss ?? 0) / 2 ** 20)} MB, ${kept ? "kept for the analysis" : "ended"}`);
      if (!kept) child.kill();
      resolveIndex({ index: message.index, parsed: message.parsed ?? [], kept });
    });
    child.on("exit", (code, signal) => {
      if (!settled) reject(new Error(`the ${language} index process exited (${signal ?? `exit code ${code}`})`));
    });
    child.send({ type: "index", language, files, config: options.config, enabledRules: [...options.enabledRules] });
  });
}

/** Source of the other languages beside the largest one may be indexed alongside it (bytes). */
const concurrentIndexBytes = 4 * 1024 * 1024;

/** The largest file of such a small language that the scan's own process analyses (bytes). */
const analysedHereBytes = 64 * 1024;

function largestLanguage(jobs: readonly Job[], languages: readonly Language[]): Language {
  const bytes = languages.map((language) => jobs.reduce((n, j) => (j.language === language ? n + j.file.text.length : n), 0));
  return languages[bytes.indexOf(Math.max(...bytes))];
}

function sourceBesidesLargest(jobs: readonly Job[], languages: readonly Language[]): number {
  const bytes = languages.map((language) => jobs.reduce((n, j) => (j.language === language ? n + j.file.text.length : n), 0));
  return bytes.reduce((a, b) => a + b, 0) - Math.max(...bytes);
}

type Prechecks = { stop: (timeoutMs: number) => Promise<Map<number, FileAnalysis>> };

const precheckChunk = 64;

/**
 * While an index is built on one core, the analysis processes waiting for it run the
 * part of the analysis that needs no index (plugin.precheck: for TypeScript, the syntax
 * check of files that name no library resource). Files are sent in small chunks so
 * stopping, when the index is ready, waits for one chunk at most; the files not reached
 * are analysed the usual way. A process that dies only loses its chunk's answers; one
 * still busy after the per-file time limit is killed and taken out of POOL (its files
 * then meet the time limit in the analysis proper).
 */
function startPrechecks(
  pool: ChildProcess[],
  children: ChildProcess[],
  candidates: { id: number; language: Language; file: SourceInput }[],
  options: AnalyzeOptions,
): Prechecks {
  const answers = new Map<number, FileAnalysis>();
  let next = 0;
  let stopped = false;
  const idle: (() => void)[] = [];
  const busy = new Set<ChildProcess>();
  const cleanups: (() => void)[] = [];
  const settle = (child: ChildProcess) => {
    busy.delete(child);
    if (busy.size === 0) for (const wake of idle.splice(0)) wake();
  };
  const send = (child: ChildProcess) => {
    if (stopped || next >= candidates.length) {
      settle(child);
      return;
    }
    // One language per chunk: the process loads that language's plugin.
    const language = candidates[next].language;
    const items: { id: number; file: SourceInput }[] = [];
    while (next < candidates.length && items.length < precheckChunk && candidates[next].language === language) {
      items.push({ id: candidates[next].id, file: candidates[next].file });
      next++;
    }
    busy.add(child);
    child.send({ type: "precheck", language, items, config: options.config, enabledRules: [...options.enabledRules] });
  };
  for (const child of children) {
    const onMessage = (message: { type: string; results?: { id: number; result: FileAnalysis | null }[] }) => {
      if (message.type !== "prechecked" || !message.results) return;
      for (const { id, result } of message.results) if (result) answers.set(id, result);
      send(child);
    };
    const onExit = () => settle(child);
    child.on("message", onMessage);
    child.on("exit", onExit);
    cleanups.push(() => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    });
    send(child);
  }
  return {
    stop: async (timeoutMs) => {
      stopped = true;
      if (busy.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((wake) => {
          idle.push(wake);
          timer = setTimeout(() => {
            for (const child of [...busy]) {
              const at = pool.indexOf(child);
              if (at >= 0) pool.splice(at, 1);
              child.kill("SIGKILL");
            }
            busy.clear();
            wake();
          }, timeoutMs);
        });
        clearTimeout(timer);
      }
      for (const cleanup of cleanups) cleanup();
      return answers;
    },
  };
}

function forkWorker(): ChildProcess {
  const bootstrap = fileURLToPath(new URL("./worker-bootstrap.mjs", import.meta.url));
  // "advanced" serialization is structured clone: the indexes arrive as they left.
  // --expose-gc: tree-sitter trees live in native memory V8 cannot see, so the
  // worker collects garbage itself every few megabytes to keep memory flat.
  const child = fork(bootstrap, [], { serialization: "advanced", stdio: ["ignore", "ignore", "inherit", "ipc"], execArgv: ["--expose-gc"] });
  // A send to a process that just died fails with an "error" event; the "exit" handler
  // reports the files it held, so the event itself must not crash the scan.
  child.on("error", () => {});
  return child;
}

async function analyzeInWorkers(
  prewarmed: ChildProcess[],
  jobs: Job[],
  indexes: Record<string, unknown>,
  options: AnalyzeOptions,
  processes: number,
  timeoutMs: number,
  onDone: () => void,
  indexWorker: IndexWorker | null = null,
): Promise<FileAnalysis[]> {
  const results: FileAnalysis[] = new Array(jobs.length);
  const languages = [...new Set(jobs.map((j) => j.language))];
  const init = { type: "init", indexes, config: options.config, enabledRules: [...options.enabledRules], languages };
  let finished = 0;
  // Files handed back by a worker that was killed, to run again first.
  const retry: number[] = [];
  const children = new Set<ChildProcess>();
  // The files whose trees the index worker holds go to it first; the other processes take
  // the rest first. Either takes from the other queue once its own is empty.
  const held = (id: number) => indexWorker !== null && jobs[id].language === indexWorker.language && indexWorker.parsed.has(jobs[id].file.path);
  const own: number[] = [];
  const others: number[] = [];
  for (let id = 0; id < jobs.length; id++) (held(id) ? own : others).push(id);
  let ownAt = 0;
  let othersAt = 0;
  const remaining = () => retry.length > 0 || ownAt < own.length || othersAt < others.length;
  const take = (child: ChildProcess): number => {
    const again = retry.shift();
    if (again !== undefined) return again;
    const first = child === indexWorker?.child;
    if (first ? ownAt < own.length : othersAt >= others.length) return own[ownAt++];
    return others[othersAt++];
  };
  return new Promise((resolvePromise, reject) => {
    const finish = () => {
      for (const child of children) child.disconnect();
      resolvePromise(results);
    };
    const complete = () => {
      finished++;
      onDone();
      if (finished === jobs.length) finish();
    };
    const start = () => {
      let child = prewarmed.pop() ?? forkWorker();
      // A spare that died before it was used would never report its exit: start afresh.
      while (child.exitCode !== null || child.signalCode !== null) child = prewarmed.pop() ?? forkWorker();
      const keep = child === indexWorker?.child ? own.map((id) => jobs[id].file.path) : undefined;
      children.add(child);
      // Several files in flight per worker so it never waits for the next message;
      // it works through them in order, so the oldest is the one being analysed.
      const inflight: number[] = [];
      let timer: NodeJS.Timeout | undefined;
      const armTimer = () => {
        clearTimeout(timer);
        if (inflight.length === 0) return;
        timer = setTimeout(() => {
          // One pathological file must not hang the scan: report it, replace the worker.
          const culprit = inflight.shift() as number;
          results[culprit] = { findings: [], error: `analysis timed out after ${Math.round(timeoutMs / 1000)} s` };
          retry.unshift(...inflight.splice(0));
          child.removeAllListeners();
          children.delete(child);
          child.kill("SIGKILL");
          complete();
          if (remaining()) start();
        }, timeoutMs);
      };
      const dispatch = () => {
        while (inflight.length < inflightPerWorker && remaining()) {
          const id = take(child);
          inflight.push(id);
          const job = jobs[id];
          child.send({ type: "file", id, language: job.language, file: job.file });
        }
        armTimer();
      };
      child.on("message", (message: { type: string; id?: number; result?: FileAnalysis }) => {
        if (message.type === "ready") {
          dispatch();
          return;
        }
        // A plugin loads before the oldest file's analysis: its time limit waits for it.
        if (message.type === "loading") {
          clearTimeout(timer);
          return;
        }
        if (message.type === "loaded") {
          armTimer();
          return;
        }
        if (message.id === undefined || !message.result) return;
        results[message.id] = message.result;
        const at = inflight.indexOf(message.id);
        if (at >= 0) inflight.splice(at, 1);
        complete();
        dispatch();
      });
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        if (!children.has(child)) return;
        children.delete(child);
        if (inflight.length > 0) {
          const culprit = inflight.shift() as number;
          results[culprit] = { findings: [], error: `analysis crashed (${signal ?? `exit code ${code}`})` };
          retry.unshift(...inflight.splice(0));
          complete();
          if (remaining()) start();
          return;
        }
        if (finished < jobs.length && children.size === 0 && remaining()) reject(new Error("analysis workers exited before the scan finished"));
      });
      child.send(keep ? { ...init, keep } : init);
    };
    if (jobs.length === 0) {
      resolvePromise(results);
      return;
    }
    for (let i = 0; i < Math.min(processes, jobs.length); i++) start();
    for (const spare of prewarmed.splice(0)) spare.kill();
  });
}

/**
 * Scan a repository: the single entry point the CLI, the job worker and the web app
 * share. The whole ROOT is indexed (cross-file facts); `only`/`changedSince` limit
 * what is reported.
 */
export async function runScan(options: ScanOptions): Promise<FullScanResult> {
  const started = performance.now();
  const root = resolve(options.root);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new ScanUsageError(`${options.root} is not a directory`);
  const threads = Math.max(1, options.jobs ?? availableParallelism());
  const prewarmed: ChildProcess[] = [];
  try {
    return await scanWith(options, root, started, threads, prewarmed);
  } finally {
    for (const child of prewarmed) child.kill();
  }
}

async function scanWith(options: ScanOptions, root: string, started: number, threads: number, prewarmed: ChildProcess[]): Promise<FullScanResult> {
  const rules = listRules();
  const config = options.config ?? loadConfig(root, { configPath: options.configPath, knownRules: rules.map((r) => r.id) });
  const enabledRules = new Set(rules.filter((r) => (config.rules[r.id] ?? r.defaultSeverity) !== "off").map((r) => r.id));
  const analyzeOptions: AnalyzeOptions = { config, enabledRules };
  const reportable = reportFilter(root, options);

  const { extensions, fileNames, byExtension } = fileNamesAndExtensions();
  const discovered = discoverFiles(root, {
    extensions,
    fileNames,
    ignoreGlobs: config.ignore,
    maxFileBytes: options.maxFileBytes ?? 1024 * 1024,
  });
  // Fork the analysis processes as soon as the scan is known to be big enough: their
  // start-up (Node, loader, parsers) then overlaps with reading and indexing.
  if (threads > 1 && discovered.files.length >= inProcessBelow) {
    // The first index's process; the next ones are forked while an index is being built
    // (idle processes during the index would add to the scan's peak memory).
    prewarmed.push(forkWorker());
  }
  const skipped = [...discovered.skipped];
  const jobs: Job[] = [];
  for (const file of discovered.files) {
    const language = languageOf(file.path, byExtension);
    if (!language) continue;
    const read = readSource(file);
    if ("skip" in read) {
      skipped.push({ path: file.path, reason: read.skip });
      continue;
    }
    jobs.push({ language, file: { path: file.path, text: read.text } });
  }

  // Only files that can be reported are analysed; the others feed the index.
  // Test code (config `tests:`) is tagged and gets its own severity; "off" leaves it unreported.
  const testsConfig = config.tests ?? defaultTestsConfig();
  const isTestFile = testsConfig.paths.length > 0 ? picomatch(testsConfig.paths, { dot: true }) : () => false;
  const reported = (path: string) => (!reportable || reportable(path)) && !(testsConfig.severity === "off" && isTestFile(path));
  const toAnalyze = jobs.filter((j) => reported(j.file.path));

  const indexes: Record<string, unknown> = {};
  const languagePlugins = new Map<Language, LanguagePlugin>();
  const languages = [...new Set(jobs.map((j) => j.language))].sort();
  let prechecked = new Map<number, FileAnalysis>();
  let indexWorker: IndexWorker | null = null;
  // Trees of an index built in this process, for the in-process analysis.
  const parsedHere = new Map<Language, ParsedFiles>();
  const toAnalyzePaths = new Set(toAnalyze.map((j) => j.file.path));
  const takeProcess = () => {
    let child = prewarmed.shift() ?? forkWorker();
    while (child.exitCode !== null || child.signalCode !== null) child = prewarmed.shift() ?? forkWorker();
    return child;
  };
  // The index takes one core; the analysis processes use the others meanwhile.
  // Files analysed in this process beside a small language's index (see below), and their answers.
  const analysedHere = new Set<number>();
  const settledHere = new Map<number, FileAnalysis>();
  const startPrechecksOn = (processes: number): Prechecks | null => {
    if (toAnalyze.length < inProcessBelow) return null;
    const withPrecheck = new Set(languages.filter((l) => languagePlugins.get(l)?.precheck));
    const candidates = toAnalyze.flatMap((job, id) => (withPrecheck.has(job.language) && !analysedHere.has(id) ? [{ id, language: job.language, file: job.file }] : []));
    return candidates.length > 0 ? startPrechecks(prewarmed, prewarmed.slice(0, Math.max(1, processes)), candidates, analyzeOptions) : null;
  };
  const filesOf = (language: Language) => jobs.filter((j) => j.language === language).map((j) => j.file);
  const pluginFor = (language: Language) => languagePlugins.get(language) as LanguagePlugin;
  if (threads > 1 && jobs.length >= inProcessBelow && languages.length > 1 && languages.length <= threads && sourceBesidesLargest(jobs, languages) <= concurrentIndexBytes) {
    // Several languages, all but one of them small (a Python service with a few TypeScript
    // email templates): the main language's index is built in a process of its own (which
    // stays on, see IndexWorker) while this process, which loads every plugin anyway, builds
    // the small ones: no process of their own, and the TypeScript compiler is not loaded a
    // second time for a few templates. Their memory stays small by that bound.
    const main = largestLanguage(jobs, languages);
    const builder = takeProcess();
    const building = buildIndexInProcess(builder, main, filesOf(main), analyzeOptions, true);
    // Not awaited yet: a failed build is reported below, after the prechecks are stopped.
    building.catch(() => {});
    for (let i = 0; i < threads - 1; i++) prewarmed.push(forkWorker());
    // This process loads the plugins (the TypeScript compiler takes a while) while the main index is built.
    for (const language of languages) languagePlugins.set(language, await loadPlugin(language));
    // The small languages' files are analysed here too, once their index is built, while
    // the main one is still being built: no analysis process loads their plugin (for
    // TypeScript, the compiler) for a few files. Only small files: this process has no
    // per-file time limit, so a large one still goes to an analysis process.
    const here = toAnalyze.flatMap((job, id) => (job.language !== main && job.file.text.length <= analysedHereBytes ? [id] : []));
    for (const id of here) analysedHere.add(id);
    const prechecks = startPrechecksOn(threads - 1);
    try {
      for (const language of languages) if (language !== main) indexes[language] = pluginFor(language).buildIndex(filesOf(language), analyzeOptions);
      for (const id of here) {
        const job = toAnalyze[id];
        settledHere.set(id, analyzeOne(pluginFor(job.language), job.file, indexes[job.language], analyzeOptions));
        // One turn of the event loop between files: the precheck processes wait for their next chunk.
        await new Promise((resolveTurn) => setImmediate(resolveTurn));
      }
      const built = await building;
      indexes[main] = built.index;
      if (built.kept) indexWorker = { child: builder, language: main, parsed: new Set(built.parsed) };
    } catch (error) {
      builder.kill();
      throw error;
    } finally {
      if (prechecks) prechecked = await prechecks.stop(options.fileTimeoutMs ?? 10_000);
    }
    await releaseGarbage();
  } else {
    for (const [n, language] of languages.entries()) {
      const plugin = await loadPlugin(language);
      languagePlugins.set(language, plugin);
      const files = filesOf(language);
      if (threads > 1 && jobs.length >= inProcessBelow) {
        const child = takeProcess();
        // Warm up what comes next while this index is built: the next index's process, or
        // after the last index the analysis processes besides this one, which stays (see IndexWorker).
        const last = n === languages.length - 1;
        for (let i = 0; i < (last ? threads - 1 : 1); i++) prewarmed.push(forkWorker());
        const prechecks = last ? startPrechecksOn(threads - 1) : null;
        try {
          const built = await buildIndexInProcess(child, language, files, analyzeOptions, last);
          indexes[language] = built.index;
          if (built.kept) indexWorker = { child, language, parsed: new Set(built.parsed) };
        } catch (error) {
          child.kill();
          throw error;
        } finally {
          if (prechecks) prechecked = await prechecks.stop(options.fileTimeoutMs ?? 10_000);
        }
      } else {
        // In this process: the trees of the files analysed below are kept for their analysis.
        const parsed: ParsedFiles = new Map();
        indexes[language] = plugin.buildIndex(files, analyzeOptions, parsed);
        for (const path of parsed.keys()) if (!toAnalyzePaths.has(path)) parsed.delete(path);
        parsedHere.set(language, parsed);
      }
      // What one language's index parsed is garbage now: free it before the next index
      // (and before the analysis) so the scan's peak memory is one index, not their sum.
      if (jobs.length >= inProcessBelow) await releaseGarbage();
    }
  }

  const total = toAnalyze.length;
  let done = 0;
  const progress = () => {
    done++;
    if (options.onProgress && (done === total || done % 25 === 0)) options.onProgress({ filesDone: done, filesTotal: total });
  };
  let analyses: FileAnalysis[];
  if (threads === 1 || total < inProcessBelow) {
    if (indexWorker) indexWorker.child.kill();
    analyses = toAnalyze.map((job, id) => {
      const here = settledHere.get(id);
      if (here) {
        progress();
        return here;
      }
      const parsed = parsedHere.get(job.language);
      const tree = parsed?.get(job.file.path);
      parsed?.delete(job.file.path);
      const result = analyzeOne(pluginFor(job.language), job.file, indexes[job.language], analyzeOptions, tree);
      progress();
      return result;
    });
  } else {
    // Files whose precheck answer stands now that the index is known need no analysis process.
    analyses = new Array(total);
    const rest: number[] = [];
    toAnalyze.forEach((job, id) => {
      const here = settledHere.get(id);
      if (here) {
        analyses[id] = here;
        progress();
        return;
      }
      const early = prechecked.get(id);
      const plugin = pluginFor(job.language);
      const settled = early && plugin.afterPrecheck ? plugin.afterPrecheck(job.file, early, indexes[job.language], analyzeOptions) : null;
      if (settled) {
        analyses[id] = settled;
        progress();
      } else rest.push(id);
    });
    // Last in, first taken: the index worker starts first, so it gets the files it holds.
    if (indexWorker) prewarmed.push(indexWorker.child);
    const analysed = await analyzeInWorkers(
      prewarmed,
      rest.map((id) => toAnalyze[id]),
      indexes,
      analyzeOptions,
      threads,
      options.fileTimeoutMs ?? 10_000,
      progress,
      indexWorker,
    );
    rest.forEach((id, n) => {
      analyses[id] = analysed[n];
    });
  }

  const findings: Finding[] = [];
  const errors: ScanError[] = [];
  // Notes from reading the repository's import policies (parts that are not literal).
  const warnings: ScanWarning[] = [...(config.notes ?? [])];
  const knownIds = new Set<string>(rules.map((r) => r.id));
  const severityOf = (rule: RuleId) => {
    const level = config.rules[rule];
    return level && level !== "off" ? level : (rules.find((r) => r.id === rule)?.defaultSeverity ?? "warning");
  };
  const fixSummary: FixSummary = { files: [], dropped: [] };
  const fixMode = options.fix ?? "none";

  for (let i = 0; i < toAnalyze.length; i++) {
    const job = toAnalyze[i];
    let analysis = analyses[i] ?? { findings: [], error: "analysis produced no result" };
    if (analysis.error) {
      errors.push({ path: job.file.path, message: analysis.error });
      // A file with a syntax error may still have findings in the parts that parse (never fixes).
      if (analysis.findings.length === 0) continue;
    }
    for (const warning of analysis.warnings ?? []) warnings.push({ path: job.file.path, ...warning });
    let text = job.file.text;
    if (fixMode !== "none" && analysis.findings.some((f) => f.fix)) {
      const reanalyze = (candidate: string) =>
        pluginFor(job.language).analyzeFile({ path: job.file.path, text: candidate }, indexes[job.language], analyzeOptions);
      const lines = text.split("\n");
      const suppressions = parseSuppressions(lines, knownIds);
      const active = { findings: analysis.findings.filter((f) => !suppressions.isSuppressed(f.rule, f.start.line)) };
      const outcome = applyFileFixes(job.file.path, text, active, reanalyze, fixMode === "unsafe");
      fixSummary.dropped.push(...outcome.dropped.map((d) => ({ ...d, path: job.file.path })));
      if (outcome.fixed.length > 0) {
        fixSummary.files.push({ path: job.file.path, fixed: outcome.fixed.map((f) => ({ rule: f.rule, line: f.start.line })) });
        text = outcome.text;
        analysis = reanalyze(text);
        options.onFixedFile?.(job.file.path, job.file.text, text);
        if (options.writeFixes) {
          const absolute = join(root, job.file.path);
          writeFileSync(absolute, hasBom(absolute) && !text.startsWith("\uFEFF") ? `\uFEFF${text}` : text);
        }
      }
    }
    const lines = text.split("\n");
    const suppressions = parseSuppressions(lines, knownIds);
    for (const unknown of suppressions.unknown) {
      warnings.push({ path: job.file.path, line: unknown.line, message: `unknown rule id "${unknown.id}" in a poolguard suppression comment` });
    }
    const raw: RawFinding[] = analysis.findings.filter((f) => enabledRules.has(f.rule));
    const fingerprints = fingerprintFindings(job.file.path, lines, raw);
    const inTests = isTestFile(job.file.path);
    raw.forEach((f, n) => {
      findings.push({
        rule: f.rule,
        severity: inTests && testsConfig.severity !== "off" ? testsConfig.severity : severityOf(f.rule),
        message: f.message,
        path: job.file.path,
        line: f.start.line,
        column: f.start.column,
        end_line: f.end.line,
        end_column: f.end.column,
        fingerprint: fingerprints[n],
        suppressed: suppressions.isSuppressed(f.rule, f.start.line),
        fix: f.fix,
        ...(inTests ? { tags: ["test" as const] } : {}),
      });
    });
  }

  findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)));
  errors.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    tool: { name: "poolguard", version: poolguardVersion },
    root,
    files_scanned: toAnalyze.length,
    duration_ms: Math.round(performance.now() - started),
    findings,
    errors,
    skipped,
    warnings,
    ...(fixMode !== "none" ? { fixes: fixSummary } : {}),
  };
}
