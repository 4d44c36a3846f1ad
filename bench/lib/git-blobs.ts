import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export type BlobEntry = { object: string; path: string };

/**
 * Writes each blob of a bare mirror under `into` at its path, streaming through
 * `git cat-file --batch` in chunks. Blobs the snapshot lacks (large files left out of it)
 * are skipped. `label` names the tree in errors.
 */
export function writeBlobs(gitDir: string, entries: readonly BlobEntry[], into: string, label: string): void {
  const chunk = 2000;
  for (let i = 0; i < entries.length; i += chunk) {
    const part = entries.slice(i, i + chunk);
    const run = spawnSync("git", ["--git-dir", gitDir, "cat-file", "--batch"], { input: part.map((e) => e.object).join("\n"), maxBuffer: 1 << 30 });
    if (run.status !== 0) throw new Error(`git cat-file failed for ${label}: ${run.stderr.toString().trim()}`);
    const buf = run.stdout;
    let offset = 0;
    for (const entry of part) {
      const eol = buf.indexOf(10, offset);
      const header = buf.subarray(offset, eol).toString("utf8");
      offset = eol + 1;
      if (header.endsWith(" missing")) continue;
      const size = Number(header.split(" ")[2]);
      const file = join(into, entry.path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, buf.subarray(offset, offset + size));
      offset += size + 1;
    }
  }
}
