// The whole app as users run it: `node scripts/start.mjs` (build when needed, migrate,
// seed, web server on HOST:PORT and one worker), with every line it writes kept so tests
// can read the logs of the run.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..", "..", "..");

export type RunningApp = {
  baseUrl: string;
  child: ChildProcess;
  /** Everything the run wrote so far (stdout and stderr of the web server, the worker, the seed). */
  output: () => string;
  /** The JSON log lines so far. */
  lines: () => Record<string, unknown>[];
  stop: () => Promise<void>;
};

export async function freePortNumber(): Promise<number> {
  const { freePort } = await import("../../../scripts/lib/redis.mjs");
  return freePort();
}

export async function startApp(env: Record<string, string | undefined>, { port, timeoutMs = 420_000 }: { port?: number; timeoutMs?: number } = {}): Promise<RunningApp> {
  const chosen = port ?? (await freePortNumber());
  const merged: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", PORT: String(chosen), ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete merged[key];
  const child = spawn(process.execPath, [join(root, "scripts", "start.mjs")], { cwd: root, env: merged, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let text = "";
  child.stdout?.on("data", (d) => {
    text += d;
  });
  child.stderr?.on("data", (d) => {
    text += d;
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const host = env.HOST && env.HOST !== "0.0.0.0" && env.HOST !== "::" ? env.HOST : "127.0.0.1";
  const baseUrl = `http://${host}:${chosen}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => {
      // The whole process group: start.mjs, the web server and the worker.
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    }, 15_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited with code ${child.exitCode} before answering:\n${text.slice(-4000)}`);
    try {
      const response = await fetch(`${baseUrl}/api/health?scope=web`);
      if (response.ok && /web server listening/.test(text)) {
        return {
          baseUrl,
          child,
          output: () => text,
          lines: () => jsonLines(text),
          stop,
        };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`the app did not answer on ${baseUrl} within ${timeoutMs / 1000} s:\n${text.slice(-4000)}`);
}

export function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // not a log line
    }
  }
  return out;
}
