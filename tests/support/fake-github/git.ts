// Real git objects behind the fake: one bare repository per fake GitHub repository,
// driven with the git CLI, so blobs, trees, commits and refs behave as on GitHub.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";

export type Identity = { name: string; email: string; date?: string };
export type TreeEntryInput = { path: string; mode: string; type: "blob" | "tree" | "commit"; sha?: string | null; content?: string };
export type TreeEntry = { path: string; mode: string; type: string; sha: string; size?: number };
export type CommitInfo = { sha: string; tree: string; parents: string[]; author: Identity & { date: string }; committer: Identity & { date: string }; message: string };

export class GitError extends Error {}

export class BareRepo {
  constructor(readonly dir: string) {
    execFileSync("git", ["init", "--bare", "--quiet", "--initial-branch=main", dir]);
  }

  git(args: string[], options: { input?: string | Buffer; env?: Record<string, string>; encoding?: "buffer" } = {}): string {
    try {
      const out = execFileSync("git", args, {
        cwd: this.dir,
        input: options.input,
        env: { ...process.env, GIT_DIR: this.dir, GIT_CONFIG_NOSYSTEM: "1", HOME: this.dir, ...options.env },
        stdio: ["pipe", "pipe", "pipe"],
        maxBuffer: 256 * 1024 * 1024,
      });
      return out.toString("utf8");
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
      throw new GitError(`git ${args.join(" ")}: ${stderr.trim() || (error as Error).message}`);
    }
  }

  gitBuffer(args: string[]): Buffer {
    return execFileSync("git", args, { cwd: this.dir, env: { ...process.env, GIT_DIR: this.dir }, maxBuffer: 512 * 1024 * 1024 });
  }

  exists(sha: string, type?: string): boolean {
    if (!/^[0-9a-f]{40}$/.test(sha)) return false;
    try {
      const actual = this.git(["cat-file", "-t", sha]).trim();
      return type ? actual === type : true;
    } catch {
      return false;
    }
  }

  writeBlob(content: Buffer): string {
    return this.git(["hash-object", "-w", "--stdin"], { input: content }).trim();
  }

  readBlob(sha: string): Buffer {
    return this.gitBuffer(["cat-file", "blob", sha]);
  }

  /** GitHub's create-tree: entries (nested paths allowed) over an optional base tree. */
  writeTree(entries: TreeEntryInput[], baseTree?: string): string {
    const scratch = mkdtempSync(join(this.dir, "index-"));
    // update-index wants a work tree; an empty scratch one is never read (--cacheinfo).
    const env = { GIT_INDEX_FILE: join(scratch, "index"), GIT_WORK_TREE: scratch };
    try {
      if (baseTree) this.git(["read-tree", baseTree], { env });
      else this.git(["read-tree", "--empty"], { env });
      for (const entry of entries) {
        if (entry.sha === null) {
          this.git(["update-index", "--force-remove", "--", entry.path], { env });
          continue;
        }
        const sha = entry.content !== undefined ? this.writeBlob(Buffer.from(entry.content)) : (entry.sha as string);
        if (entry.type === "tree") {
          // A whole subtree: drop what is there and read the tree in under the prefix.
          this.git(["rm", "--cached", "-r", "-q", "--ignore-unmatch", "--", entry.path], { env });
          this.git(["read-tree", `--prefix=${entry.path}/`, sha], { env });
          continue;
        }
        this.git(["update-index", "--add", "--cacheinfo", `${entry.mode},${sha},${entry.path}`], { env });
      }
      return this.git(["write-tree"], { env }).trim();
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  readTree(sha: string, recursive: boolean): TreeEntry[] {
    const out = this.git(["ls-tree", "-l", ...(recursive ? ["-r", "-t"] : []), sha]);
    return out
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [meta, path] = line.split("\t");
        const [mode, type, entrySha, size] = meta.split(/\s+/);
        return { path, mode, type, sha: entrySha, ...(type === "blob" ? { size: Number(size) } : {}) };
      });
  }

  writeCommit(input: { tree: string; parents: string[]; message: string; author: Identity; committer?: Identity }): string {
    const committer = input.committer ?? input.author;
    const date = (d?: string) => d ?? new Date().toISOString();
    return this.git(["commit-tree", input.tree, ...input.parents.flatMap((p) => ["-p", p])], {
      input: input.message,
      env: {
        GIT_AUTHOR_NAME: input.author.name,
        GIT_AUTHOR_EMAIL: input.author.email,
        GIT_AUTHOR_DATE: date(input.author.date),
        GIT_COMMITTER_NAME: committer.name,
        GIT_COMMITTER_EMAIL: committer.email,
        GIT_COMMITTER_DATE: date(committer.date),
      },
    }).trim();
  }

  readCommit(sha: string): CommitInfo {
    const raw = this.git(["cat-file", "commit", sha]);
    const [head, ...rest] = raw.split("\n\n");
    const parents: string[] = [];
    let tree = "";
    const people: Record<string, Identity & { date: string }> = {};
    for (const line of head.split("\n")) {
      const [key, ...value] = line.split(" ");
      if (key === "tree") tree = value[0];
      if (key === "parent") parents.push(value[0]);
      if (key === "author" || key === "committer") {
        const m = /^(.*) <(.*)> (\d+) ([+-]\d{4})$/.exec(value.join(" "));
        if (m) people[key] = { name: m[1], email: m[2], date: new Date(Number(m[3]) * 1000).toISOString().replace(/\.000Z$/, "Z") };
      }
    }
    return { sha, tree, parents, author: people.author, committer: people.committer, message: rest.join("\n\n").replace(/\n$/, "") };
  }

  resolve(ref: string): string | null {
    try {
      return this.git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).trim() || null;
    } catch {
      return null;
    }
  }

  refSha(fullRef: string): string | null {
    try {
      return this.git(["rev-parse", "--verify", "--quiet", fullRef]).trim() || null;
    } catch {
      return null;
    }
  }

  setRef(fullRef: string, sha: string): void {
    this.git(["update-ref", fullRef, sha]);
  }

  deleteRef(fullRef: string): void {
    this.git(["update-ref", "-d", fullRef]);
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    try {
      this.git(["merge-base", "--is-ancestor", ancestor, descendant]);
      return true;
    } catch {
      return false;
    }
  }

  // Answers about commit SHAs never change (objects are immutable): kept, so a large
  // pull request's diff is not recomputed by every request that shows it.
  private readonly memo = new Map<string, unknown>();

  private remember<T>(key: string, ids: string[], compute: () => T): T {
    if (!ids.every((id) => /^[0-9a-f]{40}$/.test(id))) return compute();
    if (this.memo.has(key)) return structuredClone(this.memo.get(key)) as T;
    const value = compute();
    this.memo.set(key, value);
    return structuredClone(value);
  }

  mergeBase(a: string, b: string): string | null {
    return this.remember(`merge-base ${a} ${b}`, [a, b], () => {
      try {
        return this.git(["merge-base", a, b]).trim() || null;
      } catch {
        return null;
      }
    });
  }

  revList(range: string): string[] {
    return this.git(["rev-list", "--reverse", range]).split("\n").filter(Boolean);
  }

  /** Files changed from `base` to `head` with counts and patch, as GitHub's diff-entry. */
  diff(base: string, head: string): { filename: string; status: string; additions: number; deletions: number; patch: string; sha: string }[] {
    return this.remember(`diff ${base} ${head}`, [base, head], () => this.computeDiff(base, head));
  }

  private computeDiff(base: string, head: string): { filename: string; status: string; additions: number; deletions: number; patch: string; sha: string }[] {
    const statuses = this.git(["diff", "--name-status", "--no-renames", base, head]).split("\n").filter(Boolean);
    const numstat = new Map(
      this.git(["diff", "--numstat", "--no-renames", base, head])
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [add, del, file] = line.split("\t");
          return [file, { additions: Number(add) || 0, deletions: Number(del) || 0 }] as const;
        }),
    );
    return statuses.map((line) => {
      const [code, filename] = line.split("\t");
      const status = code === "A" ? "added" : code === "D" ? "removed" : "modified";
      const patchText = this.git(["diff", "--no-renames", base, head, "--", filename]);
      const patch = patchText.slice(patchText.indexOf("@@")).replace(/\n$/, "");
      const sha = status === "removed" ? "0000000000000000000000000000000000000000" : this.git(["rev-parse", `${head}:${filename}`]).trim();
      return { filename, status, ...(numstat.get(filename) ?? { additions: 0, deletions: 0 }), patch, sha };
    });
  }

  archive(sha: string, prefix: string): Buffer {
    return this.gitBuffer(["archive", "--format=tar.gz", `--prefix=${prefix}`, sha]);
  }
}
