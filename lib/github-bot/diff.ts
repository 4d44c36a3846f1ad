import parseDiff from "parse-diff";

// Which lines of a pull request's diff can carry a review comment. GitHub accepts a
// comment on a line (right side) that lies in a hunk of the file's patch; a range
// (start_line..line) must lie within ONE hunk. One bad anchor fails a whole review
// with 422, so every anchor is checked here first.

export type Hunk = { start: number; end: number; lines: Set<number> };
export type FileDiff = { path: string; status: string; hunks: Hunk[] };

/** Hunks (right side) of one file's patch as the pull request files API returns it. */
export function parsePatch(path: string, patch: string | undefined | null): Hunk[] {
  if (!patch) return [];
  const [file] = parseDiff(`--- a/${path}\n+++ b/${path}\n${patch}\n`);
  if (!file) return [];
  return file.chunks.map((chunk) => {
    const lines = new Set<number>();
    for (const change of chunk.changes) {
      if (change.type === "add") lines.add(change.ln);
      else if (change.type === "normal") lines.add(change.ln2);
    }
    return { start: chunk.newStart, end: chunk.newStart + Math.max(chunk.newLines, 1) - 1, lines };
  });
}

/** The hunk holding every line from `start` to `end` (right side), or null. */
export function hunkFor(file: FileDiff | undefined, start: number, end: number): Hunk | null {
  if (!file || start > end) return null;
  for (const hunk of file.hunks) {
    let all = true;
    for (let line = start; line <= end; line++) {
      if (!hunk.lines.has(line)) {
        all = false;
        break;
      }
    }
    if (all) return hunk;
  }
  return null;
}

/** Lines a pull request added (right side): a finding there is "in the diff". */
export function addedLines(path: string, patch: string | undefined | null): Set<number> {
  const added = new Set<number>();
  if (!patch) return added;
  const [file] = parseDiff(`--- a/${path}\n+++ b/${path}\n${patch}\n`);
  for (const chunk of file?.chunks ?? []) for (const change of chunk.changes) if (change.type === "add") added.add(change.ln);
  return added;
}
