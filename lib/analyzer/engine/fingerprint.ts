import { createHash } from "node:crypto";
import type { RawFinding } from "../types.ts";

/**
 * Fingerprints survive unrelated edits: they hash the rule, the file, the enclosing
 * scope and the whitespace-normalised text of the flagged lines, never line numbers.
 * Identical keys in one file are told apart by their order of appearance.
 */
export function fingerprintFindings(path: string, lines: readonly string[], findings: readonly RawFinding[]): string[] {
  const seen = new Map<string, number>();
  return findings.map((finding) => {
    const text = lines
      .slice(finding.start.line - 1, finding.end.line)
      .join("\n")
      .replace(/\s+/g, " ")
      .trim();
    const key = `${finding.rule}\u0000${path}\u0000${finding.scope}\u0000${text}`;
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    return createHash("sha256").update(`${key}\u0000${occurrence}`).digest("hex").slice(0, 20);
  });
}
