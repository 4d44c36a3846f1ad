// The `poolguard` program: the process around main() in main.ts. It decides the
// working directory, keeps closed pipes quiet and turns unexpected failures into one
// line on stderr (a CI log should never end in a stack trace).
import { main } from "./main.ts";
import { userDirectory } from "./user-directory.ts";

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
