// The code around a finding, kept with it when a scan is stored. A git URL clone or a
// GitHub tarball is deleted when the scan ends, so without this the finding page could
// only show the flagged lines. Bounded, so 100,000 findings stay a few tens of
// megabytes: a few lines either side, a long flagged range cut, long lines cut.

export type SourceContext = { startLine: number; text: string };

/** Lines kept before and after the flagged lines. */
export const contextLines = 8;
/** At most this many flagged lines are kept (a finding spanning a whole function). */
export const maxFlaggedLines = 40;
/** Longer lines (minified code) are cut to this many characters and end with "…". */
export const maxLineChars = 300;
/** Upper bound of one context's text; surrounding lines are dropped to stay under it. */
export const maxContextChars = 16_000;

const cutMark = "…";

function cut(line: string): string {
  return line.length > maxLineChars ? `${line.slice(0, maxLineChars)}${cutMark}` : line;
}

/** True when `line` of a stored context was cut (the original was longer). */
export function isCutLine(line: string): boolean {
  return line.length > maxLineChars && line.endsWith(cutMark);
}

/**
 * The context of the 1-based lines `line`..`endLine` of a file split on "\n"; null when
 * the file could not be read (no lines) or the finding is outside it.
 */
export function sourceContext(lines: readonly string[], line: number, endLine: number): SourceContext | null {
  if (lines.length === 0 || line < 1 || line > lines.length) return null;
  const flaggedEnd = Math.min(Math.max(endLine, line), line + maxFlaggedLines - 1, lines.length);
  let first = Math.max(1, line - contextLines);
  let last = Math.min(lines.length, flaggedEnd + contextLines);
  const kept = lines.slice(first - 1, last).map(cut);
  let size = kept.reduce((sum, l) => sum + l.length + 1, 0);
  // Too long: drop surrounding lines, the farther side first, never a flagged one.
  while (size > maxContextChars && (first < line || last > flaggedEnd)) {
    if (last > flaggedEnd && (last - flaggedEnd >= line - first || first === line)) {
      size -= (kept.pop() ?? "").length + 1;
      last--;
    } else {
      size -= (kept.shift() ?? "").length + 1;
      first++;
    }
  }
  return { startLine: first, text: kept.join("\n") };
}
