import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { PoolguardConfig, ScanResult } from "../analyzer/types.ts";
import type { SourceContext } from "./source-context.ts";

export type AnalyzerRun = { result: ScanResult; snippets: Map<string, string>; contexts: Map<string, SourceContext> };

export class ScanStoppedError extends Error {
  constructor(
    message: string,
    readonly reason: "cancelled" | "timeout",
  ) {
    super(message);
    this.name = "ScanStoppedError";
  }
}

/** Where the child's entry lives (overridable for bundlers that move files). */
function bootstrapPath(): string {
  return process.env.POOLGUARD_ANALYZER_CHILD ?? fileURLToPath(new URL("./analyzer-child-bootstrap.mjs", import.meta.url));
}

// Idle analyzer processes kept for the next scan: starting one (Node, the TypeScript
// loader, the parsers) costs more than a small scan itself. A process is reused a
// limited number of times and only while its memory stays modest; cancelling or timing
// out a scan always kills its process.
type Idle = { child: ChildProcess; uses: number };
const idle: Idle[] = [];
const maxUses = 50;
const maxIdleRssBytes = 768 * 1024 * 1024;

/** Stop the idle analyzer processes (runner shutdown, tests). */
export function closeAnalyzerProcesses() {
  for (const entry of idle.splice(0)) entry.child.kill("SIGTERM");
}

function take(): Idle {
  while (idle.length > 0) {
    const entry = idle.pop() as Idle;
    if (entry.child.connected && entry.child.exitCode === null) return entry;
  }
  const child = fork(bootstrapPath(), [], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: ["--expose-gc"] });
  child.unref();
  (child.channel as { unref?: () => void } | undefined)?.unref?.();
  return { child, uses: 0 };
}

function release(entry: Idle, rss: number) {
  entry.uses++;
  if (entry.uses >= maxUses || rss > maxIdleRssBytes || !entry.child.connected) {
    entry.child.disconnect();
    return;
  }
  entry.child.removeAllListeners("message");
  entry.child.removeAllListeners("exit");
  entry.child.removeAllListeners("error");
  idle.push(entry);
}

function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }, 2000).unref();
}

/**
 * Analyze ROOT in a child process. Resolves with the result; rejects with
 * ScanStoppedError when `signal` aborts or `timeLimitMs` passes (the child is killed),
 * or with an Error when the analyzer fails or the child dies.
 */
export function analyzeInChild(options: {
  root: string;
  jobs?: number;
  /** Use this configuration instead of the repository's poolguard.yml. */
  config?: PoolguardConfig;
  timeLimitMs: number;
  signal?: AbortSignal;
  onProgress?: (progress: { filesDone: number; filesTotal: number }) => void;
}): Promise<AnalyzerRun> {
  return new Promise((resolvePromise, reject) => {
    if (options.signal?.aborted) {
      reject(new ScanStoppedError("the scan was cancelled", "cancelled"));
      return;
    }
    const entry = take();
    const { child } = entry;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => {
      stop(child);
      settle(() => reject(new ScanStoppedError("the scan was cancelled", "cancelled")));
    };
    const timer = setTimeout(() => {
      stop(child);
      settle(() => reject(new ScanStoppedError(`the scan took longer than its time limit (${Math.round(options.timeLimitMs / 1000)} s)`, "timeout")));
    }, options.timeLimitMs);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const request = () => child.send({ type: "scan", root: options.root, jobs: options.jobs, config: options.config });
    child.on("message", (message: { type: string; [key: string]: unknown }) => {
      if (message.type === "ready") request();
      else if (message.type === "progress") options.onProgress?.({ filesDone: message.filesDone as number, filesTotal: message.filesTotal as number });
      else if (message.type === "result") {
        settle(() =>
          resolvePromise({
            result: message.result as ScanResult,
            snippets: new Map(message.snippets as [string, string][]),
            contexts: new Map((message.contexts ?? []) as [string, SourceContext][]),
          }),
        );
        release(entry, Number(message.memory ?? 0));
      } else if (message.type === "error") {
        settle(() => reject(new Error(message.message as string)));
        release(entry, Number(message.memory ?? 0));
      }
    });
    child.on("error", (error) => settle(() => reject(error)));
    child.on("exit", (code, signal) => settle(() => reject(new Error(`the analyzer stopped unexpectedly (${signal ?? `exit code ${code}`})`))));
    // A reused process is already waiting for work.
    if (entry.uses > 0) request();
  });
}
