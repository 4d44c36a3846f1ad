import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve, sep } from "node:path";

// Where a scan's files come from. Every source yields a directory on this machine and a
// `dispose` that removes whatever it created (called in a finally by the scan service).

/** Environment variables (a plain record, so tests can pass their own). */
export type Env = Record<string, string | undefined>;

export type SnapshotKind = "local" | "git" | "github";

export type Snapshot = {
  root: string;
  /** The commit the files are at, when the source knows it. */
  commitSha: string | null;
  dispose: () => Promise<void>;
};

export type SnapshotRequest = {
  /** Branch (or tag) to take when no commit is given. */
  branch?: string | null;
  commitSha?: string | null;
  signal?: AbortSignal;
};

export type SnapshotSource = {
  kind: SnapshotKind;
  /** A short description for logs and errors (never a secret). */
  describe: string;
  materialize(request: SnapshotRequest): Promise<Snapshot>;
  /** The commit the branch points at now, without fetching the files; null if unknown. */
  headCommit(branch?: string | null, signal?: AbortSignal): Promise<string | null>;
};

/** A problem with what was asked for (path outside the roots, refused URL): not retried. */
export class SnapshotRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotRefusedError";
  }
}

/** Fetching failed (network, remote down): worth retrying later. */
export class SnapshotFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotFetchError";
  }
}

// ---------- local paths ----------

/** POOLGUARD_LOCAL_ROOTS, colon-separated, resolved to real paths. Unset: none. */
export function allowedLocalRoots(env: Env = process.env): string[] {
  const roots: string[] = [];
  for (const entry of (env.POOLGUARD_LOCAL_ROOTS ?? "").split(":")) {
    const trimmed = entry.trim();
    if (!trimmed || !isAbsolute(trimmed) || !existsSync(trimmed)) continue;
    roots.push(realpathSync(trimmed));
  }
  return roots;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/**
 * Check a local path against the allowed roots and return its real path. The check is
 * made on the real path, so a symbolic link or `..` that leads outside every root is
 * refused, whatever the path looks like.
 */
export function resolveLocalPath(path: string, env: Env = process.env): string {
  const roots = allowedLocalRoots(env);
  if (roots.length === 0) throw new SnapshotRefusedError("local paths are disabled on this server (POOLGUARD_LOCAL_ROOTS is not set)");
  if (!isAbsolute(path)) throw new SnapshotRefusedError("a local path must be absolute");
  if (path.split(/[\\/]/).includes("..")) throw new SnapshotRefusedError("a local path must not contain '..'");
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new SnapshotRefusedError(`${path} does not exist`);
  const real = realpathSync(absolute);
  if (!statSync(real).isDirectory()) throw new SnapshotRefusedError(`${path} is not a directory`);
  if (!roots.some((root) => inside(root, real))) throw new SnapshotRefusedError(`${path} is outside the folders this server may scan (POOLGUARD_LOCAL_ROOTS)`);
  return real;
}

function run(command: string, args: string[], options: { cwd?: string; signal?: AbortSignal; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return new Promise<string>((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, signal: options.signal, env: options.env, timeout: options.timeoutMs ?? 0, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error) {
          reject(Object.assign(error, { stderr: String(stderr ?? "") }));
          return;
        }
        resolvePromise(String(stdout));
      },
    );
  });
}

async function localHead(root: string): Promise<string | null> {
  if (!existsSync(join(root, ".git"))) return null;
  try {
    return (await run("git", ["-C", root, "rev-parse", "HEAD"], { env: gitEnv() })).trim() || null;
  } catch {
    return null;
  }
}

export function localSource(path: string, env: Env = process.env): SnapshotSource {
  return {
    kind: "local",
    describe: path,
    async materialize() {
      // Scanned in place: the analyzer only reads. Nothing to remove afterwards.
      const root = resolveLocalPath(path, env);
      return { root, commitSha: await localHead(root), dispose: async () => {} };
    },
    async headCommit() {
      return localHead(resolveLocalPath(path, env));
    },
  };
}

// ---------- git URLs ----------

/**
 * Only https:// and ssh (ssh://host/path or user@host:path) URLs. file://, ext::, git://,
 * plain paths and anything with an option-like start are refused here, and git itself
 * is told to refuse every other transport (protocol.allow=never) as a second wall.
 */
export function validateGitUrl(url: string, env: Env = process.env): string {
  const value = url.trim();
  if (!value || value.startsWith("-") || /[\s\0]/.test(value)) throw new SnapshotRefusedError("not a git URL");
  if (value.includes("::")) throw new SnapshotRefusedError("git remote helpers (ext::, fd:: ...) are not allowed");
  if (/^https:\/\//i.test(value) || /^ssh:\/\//i.test(value)) {
    const parsed = new URL(value);
    if (!parsed.hostname) throw new SnapshotRefusedError("the git URL has no host");
    return value;
  }
  // Plain http to loopback only, for test servers on this machine.
  if (env.POOLGUARD_GIT_ALLOW_LOOPBACK_HTTP === "1" && /^http:\/\/127\.0\.0\.1[:/]/.test(value)) return value;
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/]/.test(value) || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\//.test(value)) return value;
  throw new SnapshotRefusedError("only https:// and ssh git URLs are allowed");
}

/** Strip credentials from a URL before it goes into a log or an error message. */
export function redactGitUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = "***";
      parsed.password = "";
    }
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]+@/, "//***@");
  }
}

function gitEnv(): NodeJS.ProcessEnv {
  return {
    NODE_ENV: process.env.NODE_ENV,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // Never wait for a password on a terminal; never read the user's or system config
    // (it could enable transports or hooks).
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_PROTOCOL_FROM_USER: "0",
    GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
  };
}

function gitArgs(env: Env): string[] {
  const http = env.POOLGUARD_GIT_ALLOW_LOOPBACK_HTTP === "1" ? ["-c", "protocol.http.allow=always"] : [];
  return [
    "-c",
    "protocol.allow=never",
    "-c",
    "protocol.https.allow=always",
    "-c",
    "protocol.ssh.allow=always",
    ...http,
    // Symbolic links are checked out as small files: a link cannot lead the analyzer
    // outside the clone.
    "-c",
    "core.symlinks=false",
    "-c",
    "core.hooksPath=/dev/null",
  ];
}

function gitFailure(error: unknown, url: string): Error {
  const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
  const message = `git could not fetch ${redactGitUrl(url)}: ${stderr.split("\n").slice(-2).join(" ") || (error as Error).message}`;
  if (/transport '.*' not allowed|not allowed/.test(stderr)) return new SnapshotRefusedError(message);
  return new SnapshotFetchError(message);
}

export function gitSource(url: string, env: Env = process.env): SnapshotSource {
  return {
    kind: "git",
    describe: redactGitUrl(url),
    async materialize({ branch, commitSha, signal }) {
      const checked = validateGitUrl(url, env);
      const dir = mkdtempSync(join(tmpdir(), "poolguard-clone-"));
      const dispose = async () => rmSync(dir, { recursive: true, force: true });
      try {
        const base = gitArgs(env);
        if (commitSha) {
          // A given commit: fetch just that one (servers allow fetching reachable SHAs).
          await run("git", [...base, "init", "--quiet", dir], { env: gitEnv(), signal });
          await run("git", [...base, "-C", dir, "fetch", "--quiet", "--depth", "1", "--no-tags", "--", checked, commitSha], { env: gitEnv(), signal });
          await run("git", [...base, "-C", dir, "checkout", "--quiet", "FETCH_HEAD"], { env: gitEnv(), signal });
        } else {
          const branchArgs = branch ? ["--branch", branch] : [];
          await run("git", [...base, "clone", "--quiet", "--depth", "1", "--single-branch", "--no-tags", ...branchArgs, "--", checked, dir], {
            env: gitEnv(),
            signal,
          });
        }
        const head = (await run("git", ["-C", dir, "rev-parse", "HEAD"], { env: gitEnv() })).trim();
        // The analyzer does not need git's own data; dropping it halves disk use.
        rmSync(join(dir, ".git"), { recursive: true, force: true });
        return { root: dir, commitSha: head || null, dispose };
      } catch (error) {
        await dispose();
        if (error instanceof SnapshotRefusedError || signal?.aborted) throw error;
        throw gitFailure(error, url);
      }
    },
    async headCommit(branch, signal) {
      const checked = validateGitUrl(url, env);
      try {
        const ref = branch ? `refs/heads/${branch}` : "HEAD";
        const out = await run("git", [...gitArgs(env), "ls-remote", "--", checked, ref], { env: gitEnv(), signal, timeoutMs: 60_000 });
        return out.split(/\s+/)[0] || null;
      } catch (error) {
        throw gitFailure(error, url);
      }
    },
  };
}
