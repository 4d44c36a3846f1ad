// A throwaway PostgreSQL server on 127.0.0.1 for tests and migration authoring:
// a temp data directory, a free port, trust auth on loopback, removed on stop().
// initdb refuses to run as root, so as root the server runs as the `postgres` user.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./redis.mjs";
import { findPostgresBinDir } from "./system-deps.mjs";

function runAs(user, command, args) {
  if (!user) return execFileSync(command, args, { stdio: "pipe" });
  return execFileSync("runuser", ["-u", user, "--", command, ...args], { stdio: "pipe" });
}

function postgresUser() {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot) return null;
  const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  if (id.status !== 0) throw new Error("running as root but there is no `postgres` user to run PostgreSQL as (install the postgresql package)");
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  return { name: "postgres", uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPostgres({ log = () => {} } = {}) {
  const bin = findPostgresBinDir();
  if (!bin) throw new Error("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: install the postgresql package");
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), "poolguard-pg-"));
  const dataDir = join(dir, "data");
  if (user) {
    chownSync(dir, user.uid, user.gid);
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  const as = user?.name ?? null;
  try {
    runAs(as, join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]);
    runAs(as, join(bin, "pg_ctl"), [
      "-D", dataDir, "-l", join(dir, "server.log"), "-w", "-t", "60",
      "-o", `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      "start",
    ]);
  } catch (error) {
    let serverLog = "";
    try {
      serverLog = execFileSync("cat", [join(dir, "server.log")], { encoding: "utf8" });
    } catch {}
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${error.stderr?.toString() || error.message}\n${serverLog}`);
  }
  log(`[postgres] started on 127.0.0.1:${port} (data in ${dataDir})`);
  let stopped = false;
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    /** Stop the server (`immediate`: like a crash, no checkpoint; `fast`: clean) and start it again on the same port and data. */
    async restart({ mode = "fast", downMs = 0 } = {}) {
      runAs(as, join(bin, "pg_ctl"), ["-D", dataDir, "-m", mode, "-w", "stop"]);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      runAs(as, join(bin, "pg_ctl"), [
        "-D", dataDir, "-l", join(dir, "server.log"), "-w", "-t", "60",
        "-o", `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
        "start",
      ]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        runAs(as, join(bin, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
