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
  /** With `separateWorker`: crash (SIGKILL) and restart the web server and the worker one at a time. */
  faults?: AppFaults;
};

export type AppFaults = {
  /** SIGKILL the web server's process group (at first `start.mjs` and its web server; after a restart, `serve.mjs`). */
  killWeb: () => Promise<void>;
  /** Start the web server again (`scripts/serve.mjs`, the program `start.mjs` runs; the build and the database are already there) and wait until it answers. */
  restartWeb: () => Promise<void>;
  /** SIGKILL the worker's process group (`scripts/worker.mjs` and its analysis processes). */
  killWorker: () => Promise<void>;
  /** Start `scripts/worker.mjs` again. */
  restartWorker: () => Promise<void>;
};

export async function freePortNumber(): Promise<number> {
  const { freePort } = await import("../../../scripts/lib/redis.mjs");
  return freePort();
}

export async function startApp(
  env: Record<string, string | undefined>,
  {
    port,
    timeoutMs = 420_000,
    separateWorker = false,
  }: {
    port?: number;
    timeoutMs?: number;
    /** Run the worker as its own process (`start.mjs` with POOLGUARD_WEB_ONLY=1, then `worker.mjs`), so that each can be killed and restarted alone. */
    separateWorker?: boolean;
  } = {},
): Promise<RunningApp> {
  if (separateWorker) return startSeparately(env, { port, timeoutMs });
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

type Proc = { child: ChildProcess; exited: Promise<void> };

async function startSeparately(env: Record<string, string | undefined>, { port, timeoutMs }: { port?: number; timeoutMs: number }): Promise<RunningApp> {
  const chosen = port ?? (await freePortNumber());
  const merged: NodeJS.ProcessEnv = {
    ...process.env,
    NEXT_TELEMETRY_DISABLED: "1",
    CHECKPOINT_DISABLE: "1",
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    PORT: String(chosen),
    ...env,
    POOLGUARD_WEB_ONLY: "1",
  };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete merged[key];
  let text = "";
  // Each program in its own process group, so that a SIGKILL takes it and its children only.
  const run = (script: string, extra: Record<string, string> = {}): Proc => {
    const child = spawn(process.execPath, [join(root, "scripts", script)], { cwd: root, env: { ...merged, ...extra }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child.stdout?.on("data", (d) => {
      text += d;
    });
    child.stderr?.on("data", (d) => {
      text += d;
    });
    return { child, exited: new Promise<void>((resolve) => child.on("exit", () => resolve())) };
  };
  const alive = (p: Proc | null) => p !== null && p.child.exitCode === null && p.child.signalCode === null;
  const host = env.HOST && env.HOST !== "0.0.0.0" && env.HOST !== "::" ? env.HOST : "127.0.0.1";
  const baseUrl = `http://${host}:${chosen}`;
  const listening = (from: number) => text.slice(from).includes("web server listening");
  const waitForWeb = async (p: Proc, from: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!alive(p)) throw new Error(`the web server exited (${p.child.exitCode ?? p.child.signalCode}) before answering:\n${text.slice(-4000)}`);
      try {
        const response = await fetch(`${baseUrl}/api/health?scope=web`);
        if (response.ok && listening(from)) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`the web server did not answer on ${baseUrl} within ${timeoutMs / 1000} s:\n${text.slice(-4000)}`);
  };
  const kill = async (p: Proc | null) => {
    if (!p || !alive(p)) return;
    if (p.child.pid) process.kill(-p.child.pid, "SIGKILL");
    await p.exited;
  };
  const terminate = async (p: Proc | null) => {
    if (!p || !alive(p)) return;
    p.child.kill("SIGTERM");
    const timer = setTimeout(() => {
      if (p.child.pid) process.kill(-p.child.pid, "SIGKILL");
    }, 15_000);
    await p.exited;
    clearTimeout(timer);
  };
  // The first start as users run it: build when needed, migrate, seed, web server.
  let web: Proc | null = run("start.mjs");
  let worker: Proc | null = null;
  const stop = async () => {
    await Promise.all([terminate(web), terminate(worker)]);
  };
  try {
    await waitForWeb(web, 0);
  } catch (error) {
    await stop();
    throw error;
  }
  worker = run("worker.mjs");
  const faults: AppFaults = {
    killWeb: async () => {
      await kill(web);
      web = null;
    },
    restartWeb: async () => {
      if (alive(web)) throw new Error("the web server is still running");
      const from = text.length;
      const started = run("serve.mjs", { HOST: env.HOST ?? "127.0.0.1", PORT: String(chosen) });
      web = started;
      await waitForWeb(started, from);
    },
    killWorker: async () => {
      await kill(worker);
      worker = null;
    },
    restartWorker: async () => {
      if (alive(worker)) throw new Error("the worker is still running");
      worker = run("worker.mjs");
    },
  };
  return {
    baseUrl,
    get child() {
      return (web ?? worker)?.child as ChildProcess;
    },
    output: () => text,
    lines: () => jsonLines(text),
    stop,
    faults,
  };
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
