import { execFileSync } from "node:child_process";

/** Per repository-relative path: the changed lines of the working tree, or "all" for new files. */
export type ChangedLines = Map<string, Set<number> | "all">;

/** Undo git's C-style quoting of unusual paths ("b/caf\303\251.py"). */
export function unquoteGitPath(raw: string): string {
  if (!raw.startsWith('"') || !raw.endsWith('"')) return raw;
  const bytes: number[] = [];
  const body = raw.slice(1, -1);
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, "\\": 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const next = body[i + 1];
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/**
 * Lines added or changed on the "+" side of `git diff -U0` output. A pure deletion
 * marks the lines on either side of it: code next to removed code is what changed.
 */
export function parseUnifiedDiff(diff: string): ChangedLines {
  const changed: ChangedLines = new Map();
  const lines = diff.split("\n");
  let path: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("+++ ")) {
      const target = unquoteGitPath(line.slice(4).replace(/\t.*$/, ""));
      path = target === "/dev/null" ? null : target.replace(/^b\//, "");
      continue;
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (!hunk || path === null) continue;
    const start = Number(hunk[2]);
    const count = hunk[3] === undefined ? 1 : Number(hunk[3]);
    let set = changed.get(path);
    if (set === undefined) {
      set = new Set();
      changed.set(path, set);
    }
    if (set === "all") continue;
    if (count === 0) {
      set.add(Math.max(1, start));
      set.add(start + 1);
    } else for (let n = start; n < start + count; n++) set.add(n);
    // Skip the hunk's body so a changed line that starts with "++ " is never read as a header.
    let oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
    let newLeft = count;
    while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
      const body = lines[i + 1];
      if (body.startsWith("-")) oldLeft--;
      else if (body.startsWith("+")) newLeft--;
      else if (!body.startsWith("\\")) break;
      i++;
    }
  }
  return changed;
}

/**
 * What changed in the working tree at ROOT since REF: `git diff -U0 REF` hunks (renames
 * followed), and every line of untracked files. The ref has been checked by the scan.
 */
export function changedLinesSince(root: string, ref: string): ChangedLines {
  const git = (args: string[]) =>
    execFileSync("git", ["-c", "core.quotePath=false", ...args], { cwd: root, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
  const changed = parseUnifiedDiff(
    git(["diff", "-U0", "-M", "--no-color", "--no-ext-diff", "--no-textconv", "--relative", "--src-prefix=a/", "--dst-prefix=b/", ref, "--"]),
  );
  for (const path of git(["ls-files", "--others", "--exclude-standard"]).split("\n")) {
    if (path.trim()) changed.set(path.trim(), "all");
  }
  return changed;
}

/** Whether a finding's lines overlap the changed ones. */
export function touchesChangedLines(changed: ChangedLines, finding: { path: string; line: number; end_line: number }): boolean {
  const lines = changed.get(finding.path);
  if (lines === undefined) return false;
  if (lines === "all") return true;
  for (let n = finding.line; n <= finding.end_line; n++) if (lines.has(n)) return true;
  return false;
}
