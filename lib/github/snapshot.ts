// Reading a repository snapshot (a commit's tarball) without trusting it.
//
// An archive can try to write outside the target (../x, /etc/x), plant links that
// point elsewhere, create device files, or expand into gigabytes. So: only regular
// files and directories are ever created, every path is checked to stay under the
// target, owners and odd modes are never applied, and compressed size, unpacked size,
// entry count and single-file size are capped while streaming. Each refusal is a
// SnapshotError naming the entry.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { createGunzip } from "node:zlib";
import { Parser, type ReadEntry } from "tar";
import { type GitHubClient, isCommitSha } from "./client.ts";

export type SnapshotLimits = {
  /** Size of the .tar.gz as downloaded. */
  maxCompressedBytes: number;
  /** Sum of all file sizes once unpacked. */
  maxUnpackedBytes: number;
  /** Files plus directories. */
  maxEntries: number;
  /** One file. */
  maxFileBytes: number;
};

export const defaultSnapshotLimits: SnapshotLimits = {
  maxCompressedBytes: 512 * 1024 * 1024,
  maxUnpackedBytes: 2 * 1024 * 1024 * 1024,
  maxEntries: 200_000,
  maxFileBytes: 100 * 1024 * 1024,
};

export type SnapshotRefusal =
  | "absolute-path"
  | "path-traversal"
  | "invalid-path"
  | "link"
  | "special-file"
  | "outside-prefix"
  | "file-too-large"
  | "too-many-entries"
  | "unpacked-too-large"
  | "compressed-too-large"
  | "corrupt-archive";

export class SnapshotError extends Error {
  constructor(
    readonly reason: SnapshotRefusal,
    readonly entry: string | null,
    message: string,
  ) {
    super(message);
    this.name = "SnapshotError";
  }
}

export type SnapshotReadOptions = {
  limits?: Partial<SnapshotLimits>;
  /** Drop the archive's single top-level folder (GitHub's "<owner>-<repo>-<sha7>/"). Default true. */
  stripPrefix?: boolean;
  /**
   * Symbolic and hard links are never created. "skip" (default) leaves them out and
   * lists them in `skipped` (real repositories contain symlinks); "error" refuses the
   * whole archive.
   */
  links?: "skip" | "error";
};

export type SkippedEntry = { path: string; reason: "link" | "binary" };
export type MemoryFile = { path: string; text: string };

type EntryHandler = (path: string, data: Buffer, executable: boolean) => void;
type DirHandler = (path: string) => void;

function describe(path: string): string {
  return JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}…` : path);
}

/** Validate an entry path and return it relative to the (stripped) root, or null for the root itself. */
function checkPath(raw: string, strip: boolean, prefix: { value: string | null }): string | null {
  if (raw.includes("\0")) throw new SnapshotError("invalid-path", raw, `archive entry ${describe(raw)} has a NUL byte in its name`);
  if (raw.startsWith("/") || raw.startsWith("\\") || /^[A-Za-z]:/.test(raw) || isAbsolute(raw)) {
    throw new SnapshotError("absolute-path", raw, `archive entry ${describe(raw)} has an absolute path`);
  }
  const segments = raw.split(/[/\\]+/).filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw new SnapshotError("path-traversal", raw, `archive entry ${describe(raw)} climbs out of the target with ".."`);
  if (segments.length === 0) return null;
  if (!strip) return segments.join("/");
  if (prefix.value === null) prefix.value = segments[0];
  if (segments[0] !== prefix.value) throw new SnapshotError("outside-prefix", raw, `archive entry ${describe(raw)} is not under the archive's top folder ${describe(prefix.value)}`);
  return segments.length === 1 ? null : segments.slice(1).join("/");
}

/**
 * Stream a .tar.gz through the checks, calling `onFile` for each regular file and
 * `onDir` for each directory (paths relative, forward slashes).
 */
async function readArchive(
  input: AsyncIterable<Uint8Array> | Uint8Array,
  options: SnapshotReadOptions,
  onFile: EntryHandler,
  onDir: DirHandler,
): Promise<SkippedEntry[]> {
  const limits = { ...defaultSnapshotLimits, ...options.limits };
  const strip = options.stripPrefix ?? true;
  const prefix = { value: null as string | null };
  const skipped: SkippedEntry[] = [];
  // Headers and padding add up to 1.5 KB per entry; past that the stream is padding
  // or a bomb, whatever its headers say.
  const maxTarBytes = limits.maxUnpackedBytes + limits.maxEntries * 1536 + 1024 * 1024;
  let failure: Error | null = null;
  let entries = 0;
  let unpacked = 0;

  const parser = new Parser({ strict: true });
  const fail = (error: Error) => {
    failure ??= error;
  };
  parser.on("warn", (_code: string, message: string | Error) => fail(new SnapshotError("corrupt-archive", null, `the archive is corrupt: ${typeof message === "string" ? message : message.message}`)));
  parser.on("error", (error: Error) => fail(new SnapshotError("corrupt-archive", null, `the archive is corrupt: ${error.message}`)));
  parser.on("entry", (entry: ReadEntry) => {
    if (failure) {
      entry.resume();
      return;
    }
    try {
      const path = checkPath(entry.path, strip, prefix);
      const type = entry.type;
      if (type === "SymbolicLink" || type === "Link") {
        if (options.links === "error") {
          throw new SnapshotError("link", entry.path, `archive entry ${describe(entry.path)} is a ${type === "Link" ? "hard" : "symbolic"} link to ${describe(entry.linkpath ?? "")}; links are refused`);
        }
        if (path !== null) skipped.push({ path, reason: "link" });
        entry.resume();
        return;
      }
      if (type !== "File" && type !== "OldFile" && type !== "ContiguousFile" && type !== "Directory") {
        throw new SnapshotError("special-file", entry.path, `archive entry ${describe(entry.path)} is a ${type}; only regular files and directories are accepted`);
      }
      entries++;
      if (entries > limits.maxEntries) throw new SnapshotError("too-many-entries", entry.path, `the archive has more than ${limits.maxEntries} entries (refused at ${describe(entry.path)})`);
      if (type === "Directory") {
        if (path !== null) onDir(path);
        entry.resume();
        return;
      }
      if (path === null) throw new SnapshotError("invalid-path", entry.path, `archive entry ${describe(entry.path)} is a file where the top folder should be`);
      const size = entry.size ?? 0;
      if (size > limits.maxFileBytes) throw new SnapshotError("file-too-large", entry.path, `archive entry ${describe(entry.path)} is ${size} bytes, over the ${limits.maxFileBytes}-byte limit for one file`);
      unpacked += size;
      if (unpacked > limits.maxUnpackedBytes) throw new SnapshotError("unpacked-too-large", entry.path, `the archive unpacks to more than ${limits.maxUnpackedBytes} bytes (refused at ${describe(entry.path)})`);
      const chunks: Buffer[] = [];
      let received = 0;
      entry.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received <= size) chunks.push(chunk);
      });
      entry.on("end", () => {
        if (failure) return;
        try {
          onFile(path, Buffer.concat(chunks), ((entry.mode ?? 0) & 0o111) !== 0);
        } catch (error) {
          fail(error as Error);
        }
      });
    } catch (error) {
      fail(error as Error);
      entry.resume();
    }
  });

  const gunzip = createGunzip();
  let compressed = 0;
  let decompressed = 0;
  const finished = new Promise<void>((resolvePromise) => {
    parser.on("end", () => resolvePromise());
    parser.on("close", () => resolvePromise());
  });
  gunzip.on("data", (chunk: Buffer) => {
    if (failure) return;
    decompressed += chunk.length;
    if (decompressed > maxTarBytes) {
      fail(new SnapshotError("unpacked-too-large", null, `the archive expands past ${maxTarBytes} bytes (a compression bomb, or over the unpacked-size limit)`));
      return;
    }
    parser.write(chunk);
  });
  const gunzipDone = new Promise<void>((resolvePromise) => {
    gunzip.on("end", () => resolvePromise());
    gunzip.on("error", (error) => {
      fail(new SnapshotError("corrupt-archive", null, `the archive is not valid gzip: ${error.message}`));
      resolvePromise();
    });
  });

  const source = input instanceof Uint8Array ? [input] : input;
  for await (const chunk of source) {
    compressed += chunk.length;
    if (compressed > limits.maxCompressedBytes) {
      fail(new SnapshotError("compressed-too-large", null, `the archive is larger than ${limits.maxCompressedBytes} bytes compressed`));
    }
    if (failure) break;
    if (!gunzip.write(chunk)) await new Promise<void>((r) => gunzip.once("drain", () => r()));
    if (failure) break;
  }
  if (failure) {
    gunzip.destroy();
    parser.abort(failure);
    throw failure;
  }
  gunzip.end();
  await gunzipDone;
  if (!failure) {
    parser.end();
    await finished;
  }
  if (failure) throw failure;
  return skipped;
}

/** Unpack an archive into `target` (which must be empty or missing). */
export async function extractSnapshot(input: AsyncIterable<Uint8Array> | Uint8Array, target: string, options: SnapshotReadOptions = {}): Promise<{ files: number; skipped: SkippedEntry[] }> {
  const root = resolve(target);
  mkdirSync(root, { recursive: true });
  if (readdirSync(root).length > 0) throw new Error(`${root} is not empty; snapshots are unpacked into an empty folder`);
  let files = 0;
  const inside = (path: string) => {
    const absolute = resolve(root, path);
    const rel = relative(root, absolute);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) throw new SnapshotError("path-traversal", path, `archive entry ${describe(path)} resolves outside the target`);
    return absolute;
  };
  const skipped = await readArchive(
    input,
    options,
    (path, data, executable) => {
      const absolute = inside(path);
      mkdirSync(join(absolute, ".."), { recursive: true, mode: 0o755 });
      // Never chown, never setuid/setgid/sticky: plain owner-writable files only.
      writeFileSync(absolute, data, { mode: executable ? 0o755 : 0o644 });
      files++;
    },
    (path) => {
      mkdirSync(inside(path), { recursive: true, mode: 0o755 });
    },
  );
  return { files, skipped };
}

/** Read an archive's text files into memory for the analyzer (binary files are listed in `skipped`). */
export async function readSnapshotIntoMemory(input: AsyncIterable<Uint8Array> | Uint8Array, options: SnapshotReadOptions = {}): Promise<{ files: MemoryFile[]; skipped: SkippedEntry[] }> {
  const files: MemoryFile[] = [];
  const binary: SkippedEntry[] = [];
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const skipped = await readArchive(
    input,
    options,
    (path, data) => {
      try {
        if (data.includes(0)) throw new Error("NUL byte");
        files.push({ path, text: decoder.decode(data) });
      } catch {
        binary.push({ path, reason: "binary" });
      }
    },
    () => {},
  );
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, skipped: [...skipped, ...binary] };
}

/** Stream the tarball of a commit (never a branch name) with the compressed-size cap applied early. */
export async function downloadTarball(client: GitHubClient, owner: string, repo: string, sha: string, limits: Partial<SnapshotLimits> = {}): Promise<AsyncIterable<Uint8Array>> {
  if (!isCommitSha(sha)) throw new Error(`snapshots are downloaded by commit sha, not "${sha}"`);
  const max = limits.maxCompressedBytes ?? defaultSnapshotLimits.maxCompressedBytes;
  const url = await client.tarballUrl(owner, repo, sha);
  // The redirect target carries its own short-lived token: no Authorization header.
  // Bounded in time as well as size: a stalled download must not hold a scan forever.
  const response = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(15 * 60_000) });
  if (!response.ok || !response.body) throw new Error(`downloading the tarball of ${owner}/${repo}@${sha.slice(0, 12)} failed: HTTP ${response.status}`);
  const length = Number(response.headers.get("content-length"));
  if (Number.isFinite(length) && length > max) {
    await response.body.cancel();
    throw new SnapshotError("compressed-too-large", null, `the archive is ${length} bytes compressed, over the ${max}-byte limit`);
  }
  return response.body as unknown as AsyncIterable<Uint8Array>;
}

/** Download a commit's snapshot and unpack it into `target`. */
export async function downloadSnapshotToDirectory(
  client: GitHubClient,
  input: { owner: string; repo: string; sha: string; target: string },
  options: SnapshotReadOptions = {},
): Promise<{ files: number; skipped: SkippedEntry[] }> {
  const stream = await downloadTarball(client, input.owner, input.repo, input.sha, options.limits);
  return extractSnapshot(stream, input.target, options);
}

/** Download a commit's snapshot into memory as {path, text}[]. */
export async function downloadSnapshotIntoMemory(
  client: GitHubClient,
  input: { owner: string; repo: string; sha: string },
  options: SnapshotReadOptions = {},
): Promise<{ files: MemoryFile[]; skipped: SkippedEntry[] }> {
  const stream = await downloadTarball(client, input.owner, input.repo, input.sha, options.limits);
  return readSnapshotIntoMemory(stream, options);
}
