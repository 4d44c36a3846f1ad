// Shared by the pipeline tests: real worker processes (scripts/worker.mjs), a fresh
// database per test file, repositories written to temporary folders.
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..", "..", "..");

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `poolguard-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A copy of the demo repository (13 files, 8 findings). */
export function copyDemoRepository(target: string) {
  cpSync(join(root, "scripts", "demo-repository"), target, { recursive: true });
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

export type WorkerProcess = {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  events: { msg: string; scanId?: string; [key: string]: unknown }[];
  output: () => string;
  kill: (signal: NodeJS.Signals) => Promise<void>;
};

/** Start `node scripts/worker.mjs` with ENV (DATABASE_URL etc. from this process unless overridden). */
export function startWorker(env: Record<string, string | undefined>): WorkerProcess {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete merged[key];
  const child = spawn(process.execPath, [join(root, "scripts", "worker.mjs")], { cwd: root, env: merged, stdio: ["ignore", "pipe", "pipe"] });
  const events: WorkerProcess["events"] = [];
  let text = "";
  let pending = "";
  child.stdout?.on("data", (chunk) => {
    text += chunk;
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      try {
        events.push(JSON.parse(line));
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.on("data", (chunk) => {
    text += chunk;
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return {
    child,
    events,
    output: () => text,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** Processes whose command line mentions PATTERN (to prove none were left behind). */
export async function processesMatching(pattern: string): Promise<number[]> {
  const { readdirSync, readFileSync } = await import("node:fs");
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(pattern)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}
