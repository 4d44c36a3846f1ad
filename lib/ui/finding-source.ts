import { readFile, realpath } from "node:fs/promises";
import { join, sep } from "node:path";
import { createTwoFilesPatch } from "diff";
import { applyEdits } from "../analyzer/fix/apply-edits.ts";
import type { Fix } from "../analyzer/types.ts";
import { resolveLocalPath } from "../scan/snapshot.ts";
import { isCutLine } from "../scan/source-context.ts";

// The code a finding points at, for the finding page: the file around the flagged lines
// when the repository is a local checkout this server may read, else the code around
// the finding stored by its last scan (git URL clones and GitHub tarballs are gone once
// the scan ends), else the flagged lines alone. Never reads outside the repository's folder.

export type FindingSource = {
  text: string;
  firstLine: number;
  /** "file": read now; "context": the code around the finding as of the last scan; "snippet": the flagged lines only. */
  from: "file" | "context" | "snippet";
  fromFile: boolean;
  fileText: string | null;
};

const context = 8;

export async function findingSource(input: {
  provider: string;
  localPath: string | null;
  path: string;
  line: number;
  endLine: number;
  snippet: string | null;
  context?: string | null;
  contextStartLine?: number | null;
}): Promise<FindingSource> {
  const fallback: FindingSource =
    input.context && input.contextStartLine
      ? { text: input.context, firstLine: input.contextStartLine, from: "context", fromFile: false, fileText: null }
      : { text: input.snippet ?? "", firstLine: input.line, from: "snippet", fromFile: false, fileText: null };
  if (input.provider !== "local" || !input.localPath) return fallback;
  try {
    // The bundled demo repository is always readable; other local checkouts only under POOLGUARD_LOCAL_ROOTS.
    const demo = await realpath(join(process.cwd(), "scripts", "demo-repository")).catch(() => null);
    const root = demo !== null && (await realpath(input.localPath).catch(() => null)) === demo ? demo : resolveLocalPath(input.localPath);
    const file = await realpath(join(root, input.path));
    if (!file.startsWith(root + sep)) return fallback;
    const fileText = await readFile(file, "utf8");
    const lines = fileText.split("\n");
    const first = Math.max(1, input.line - context);
    const last = Math.min(lines.length, input.endLine + context);
    return { text: lines.slice(first - 1, last).join("\n"), firstLine: first, from: "file", fromFile: true, fileText };
  } catch {
    return fallback;
  }
}

/** The fix as a unified diff of the file (when the file is at hand), else null. */
export function fixDiff(path: string, fileText: string | null, fix: Fix | null): string | null {
  if (!fileText || !fix || fix.edits.some((e) => e.path !== path)) return null;
  try {
    const fixed = applyEdits(fileText, fix.edits);
    return createTwoFilesPatch(`a/${path}`, `b/${path}`, fileText, fixed, "", "", { context: 3 }).split("\n").slice(2).join("\n").trimEnd();
  } catch {
    return null;
  }
}

/**
 * The fix as a unified diff of the stored context, when every edit falls inside it and
 * touches no line the context cut short; hunk headers carry the file's line numbers.
 */
export function contextFixDiff(path: string, context: { text: string; startLine: number } | null, fix: Fix | null): string | null {
  if (!context || !fix || fix.edits.length === 0) return null;
  const lines = context.text.split("\n");
  const last = context.startLine + lines.length - 1;
  const inside = fix.edits.every((e) => e.path === path && e.start.line >= context.startLine && e.end.line <= last);
  if (!inside) return null;
  const touched = fix.edits.flatMap((e) => lines.slice(e.start.line - context.startLine, e.end.line - context.startLine + 1));
  if (touched.some(isCutLine)) return null;
  const shift = context.startLine - 1;
  const edits = fix.edits.map((e) => ({ ...e, start: { ...e.start, line: e.start.line - shift }, end: { ...e.end, line: e.end.line - shift } }));
  try {
    // A context that reaches the end of a file ends with its final newline already.
    const before = context.text.endsWith("\n") ? context.text : `${context.text}\n`;
    const after = applyEdits(before, edits);
    const patch = createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, "", "", { context: 3 }).split("\n").slice(2).join("\n").trimEnd();
    return patch.replace(/^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@/gm, (_m, a: string, b = "", c: string, d = "") => `@@ -${Number(a) + shift}${b} +${Number(c) + shift}${d} @@`);
  } catch {
    return null;
  }
}
