// The `poolguard` program: the process around main() in main.ts. It decides the
// working directory, keeps closed pipes quiet and turns unexpected failures into one
// line on stderr (a CI log should never end in a stack trace).
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "./main.ts";

/** The folder holding Poolguard's own package.json (the checkout, or the installed package). */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "bin", "poolguard.mjs"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/**
 * `npm run poolguard -- scan .` runs in Poolguard's own folder, wherever the user
 * stands; npm keeps the user's folder in INIT_CWD. Only Poolguard's own scripts move
 * back there: a team's script that runs `poolguard scan .` means its package root,
 * as every npm script does.
 */
export function userDirectory(env: Record<string, string | undefined>, cwd: string): string {
  const own = packageRoot();
  if (!env.INIT_CWD || !env.npm_lifecycle_event || !env.npm_package_json || !own) return cwd;
  if (!sameDir(dirname(env.npm_package_json), own) || !sameDir(cwd, own)) return cwd;
  return existsSync(env.INIT_CWD) ? env.INIT_CWD : cwd;
}

/** Writes that stop quietly once the reader is gone (`poolguard rules | head -1`). */
function pipeWriter(stream: NodeJS.WriteStream): (s: string) => void {
  let closed = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") {
      closed = true;
      return;
    }
    fail(error);
  });
  return (s) => {
    if (!closed && !stream.destroyed) stream.write(s);
  };
}

const stderr = pipeWriter(process.stderr);

function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  stderr(`poolguard: error: ${message}\n`);
  if (process.env.POOLGUARD_DEBUG && error instanceof Error && error.stack) stderr(`${error.stack}\n`);
  else stderr("(set POOLGUARD_DEBUG=1 to see where it happened)\n");
  process.exit(2);
}

process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

const directory = userDirectory(process.env, process.cwd());
if (directory !== process.cwd()) process.chdir(directory);

try {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: pipeWriter(process.stdout),
    stderr,
    isTty: Boolean(process.stdout.isTTY),
    env: process.env,
  });
} catch (error) {
  fail(error);
}
