import type { FileAnalysis, Fix, RawFinding, TextEdit } from "../types.ts";
import { applyEdits, lineEnding } from "./apply-edits.ts";

export type DroppedFix = { rule: string; line: number; reason: string };
export type FileFixResult = { text: string; fixed: RawFinding[]; dropped: DroppedFix[] };

const maxPasses = 5;

function key(f: RawFinding): string {
  return `${f.rule}\u0000${f.scope}`;
}

function countByKey(findings: readonly RawFinding[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(key(f), (counts.get(key(f)) ?? 0) + 1);
  return counts;
}

/** Keep the file's line endings even when a rule wrote "\n" in its replacement. */
function normalizeFix(fix: Fix, text: string): Fix {
  if (lineEnding(text) !== "\r\n") return fix;
  return { ...fix, edits: fix.edits.map((e) => ({ ...e, text: e.text.replace(/\r?\n/g, "\r\n") })) };
}

/** The lines a fix touches; two fixes that touch a common line are applied in different passes. */
function linesOf(fix: Fix): number[] {
  const lines: number[] = [];
  for (const e of fix.edits) for (let line = e.start.line; line <= e.end.line; line++) lines.push(line);
  return lines;
}

/**
 * Apply a file's fixes so that no applied fix can break code: the result is re-parsed
 * and re-analysed, and a fix is kept only when the file still parses and the finding it
 * targets is gone. Fixes that touch a common line wait for a later pass, computed on the
 * new text (two fixes indenting the same line must each add their level, which one
 * combined edit list cannot express).
 *
 * Each pass first tries all its fixes together with one re-analysis; only when that
 * fails is each fix tried on its own. A file with hundreds of fixable findings costs a
 * few analyses, not one per finding.
 */
export function applyFileFixes(
  path: string,
  original: string,
  initial: FileAnalysis,
  analyze: (text: string) => FileAnalysis,
  allowUnsafe: boolean,
): FileFixResult {
  let text = original;
  let current = initial;
  const fixed: RawFinding[] = [];
  const dropped: DroppedFix[] = [];
  const given = new Set<string>();
  const idOf = (f: RawFinding) => `${key(f)}\u0000${f.message}\u0000${f.start.line}`;
  for (let pass = 0; pass < maxPasses; pass++) {
    const counts = countByKey(current.findings);
    const candidates: { finding: RawFinding; fix: Fix }[] = [];
    const busyLines = new Set<number>();
    for (const finding of current.findings) {
      if (!finding.fix) continue;
      const id = idOf(finding);
      if (given.has(id)) continue;
      if (finding.fix.safety === "unsafe" && !allowUnsafe) continue;
      if (finding.fix.edits.some((e) => e.path !== path)) {
        given.add(id);
        dropped.push({ rule: finding.rule, line: finding.start.line, reason: "the fix edits other files, which is not supported yet" });
        continue;
      }
      const fix = normalizeFix(finding.fix, text);
      const lines = linesOf(fix);
      if (lines.some((l) => busyLines.has(l))) continue;
      for (const l of lines) busyLines.add(l);
      candidates.push({ finding, fix });
    }
    if (candidates.length === 0) break;

    // All together first: one re-analysis when every fix is good.
    const together = tryApply(text, candidates.flatMap((c) => c.fix.edits));
    if (together !== null) {
      const after = analyze(together);
      const removedEnough =
        !after.error &&
        [...countByKey(candidates.map((c) => c.finding))].every(([k, n]) => (countByKey(after.findings).get(k) ?? 0) <= (counts.get(k) ?? 0) - n);
      if (removedEnough) {
        for (const c of candidates) given.add(idOf(c.finding));
        text = together;
        current = after;
        fixed.push(...candidates.map((c) => c.finding));
        continue;
      }
    }

    // Otherwise each on its own, then the good ones together (or only the first when they clash).
    const accepted: { finding: RawFinding; fix: Fix }[] = [];
    for (const { finding, fix } of candidates) {
      given.add(idOf(finding));
      let candidate: string;
      try {
        candidate = applyEdits(text, fix.edits);
      } catch (error) {
        dropped.push({ rule: finding.rule, line: finding.start.line, reason: `edits could not be applied: ${(error as Error).message}` });
        continue;
      }
      const after = analyze(candidate);
      if (after.error) {
        dropped.push({ rule: finding.rule, line: finding.start.line, reason: `the fixed file would not parse (${after.error})` });
        continue;
      }
      if ((countByKey(after.findings).get(key(finding)) ?? 0) >= (counts.get(key(finding)) ?? 0)) {
        dropped.push({ rule: finding.rule, line: finding.start.line, reason: "the fix did not remove the finding" });
        continue;
      }
      accepted.push({ finding, fix });
    }
    if (accepted.length === 0) continue;
    const combined = tryApply(
      text,
      accepted.flatMap((a) => a.fix.edits),
    );
    const afterCombined = combined === null ? null : analyze(combined);
    if (combined === null || afterCombined === null || afterCombined.error) {
      // Each fix was fine alone but not together: keep only the first, retry the rest on the new text.
      const first = accepted[0];
      text = applyEdits(text, first.fix.edits);
      current = analyze(text);
      fixed.push(first.finding);
      for (const a of accepted.slice(1)) given.delete(idOf(a.finding));
      continue;
    }
    text = combined;
    current = afterCombined;
    fixed.push(...accepted.map((a) => a.finding));
  }
  // A fix dropped on one pass may be tried again on shifted lines: report it once.
  const unique = new Map(dropped.map((d) => [`${d.rule}\u0000${d.reason}\u0000${d.line}`, d]));
  return { text, fixed, dropped: [...unique.values()] };
}

function tryApply(text: string, edits: TextEdit[]): string | null {
  try {
    return applyEdits(text, edits);
  } catch {
    return null;
  }
}
