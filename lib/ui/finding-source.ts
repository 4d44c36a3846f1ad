import { readFile, realpath } from "node:fs/promises";
import { join, sep } from "node:path";
import { createTwoFilesPatch } from "diff";
import { applyEdits } from "../analyzer/fix/apply-edits.ts";
import type { Fix } from "../analyzer/types.ts";
import { resolveLocalPath } from "../scan/snapshot.ts";

// The code a finding points at, for the finding page: the file around the flagged lines
// when the repository is a local checkout this server may read, else the flagged lines
// stored with the finding. Never reads outside the repository's folder.

export type FindingSource = { text: string; firstLine: number; fromFile: boolean; fileText: string | null };

const context = 8;

export async function findingSource(input: {
  provider: string;
  localPath: string | null;
  path: string;
  line: number;
  endLine: number;
  snippet: string | null;
}): Promise<FindingSource> {
  const fallback: FindingSource = { text: input.snippet ?? "", firstLine: input.line, fromFile: false, fileText: null };
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
    return { text: lines.slice(first - 1, last).join("\n"), firstLine: first, fromFile: true, fileText };
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
