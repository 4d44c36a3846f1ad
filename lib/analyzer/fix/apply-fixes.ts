import type { FileAnalysis, Fix, RawFinding } from "../types.ts";
import { applyEdits, editsOverlap, lineEnding } from "./apply-edits.ts";

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

/**
 * Apply a file's fixes so that no applied fix can break code: every fix is tried on
 * its own, the result re-parsed and re-analysed, and kept only when the file still
 * parses and the finding it targets is gone. Overlapping fixes wait for a later pass,
 * computed on the new text.
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
  for (let pass = 0; pass < maxPasses; pass++) {
    const counts = countByKey(current.findings);
    const accepted: { finding: RawFinding; fix: Fix }[] = [];
    for (const finding of current.findings) {
      if (!finding.fix) continue;
      const id = `${key(finding)}\u0000${finding.message}\u0000${finding.start.line}`;
      if (given.has(id)) continue;
      if (finding.fix.safety === "unsafe" && !allowUnsafe) continue;
      if (finding.fix.edits.some((e) => e.path !== path)) {
        given.add(id);
        dropped.push({ rule: finding.rule, line: finding.start.line, reason: "the fix edits other files, which is not supported yet" });
        continue;
      }
      const fix = normalizeFix(finding.fix, text);
      if (accepted.some((a) => editsOverlap(a.fix.edits, fix.edits))) continue;
      let candidate: string;
      try {
        candidate = applyEdits(text, fix.edits);
      } catch (error) {
        given.add(id);
        dropped.push({ rule: finding.rule, line: finding.start.line, reason: `edits could not be applied: ${(error as Error).message}` });
        continue;
      }
      const after = analyze(candidate);
      given.add(id);
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
    if (accepted.length === 0) break;
    const combined = applyEdits(
      text,
      accepted.flatMap((a) => a.fix.edits),
    );
    const after = analyze(combined);
    if (after.error) {
      // Each fix was fine alone but not together: keep only the first, retry the rest.
      const first = accepted[0];
      const alone = applyEdits(text, first.fix.edits);
      text = alone;
      current = analyze(alone);
      fixed.push(first.finding);
      for (const a of accepted.slice(1)) given.delete(`${key(a.finding)}\u0000${a.finding.message}\u0000${a.finding.start.line}`);
      continue;
    }
    text = combined;
    current = after;
    fixed.push(...accepted.map((a) => a.finding));
  }
  // A fix dropped on one pass may be tried again on shifted lines: report it once.
  const unique = new Map(dropped.map((d) => [`${d.rule}\u0000${d.reason}\u0000${d.line}`, d]));
  return { text, fixed, dropped: [...unique.values()] };
}
