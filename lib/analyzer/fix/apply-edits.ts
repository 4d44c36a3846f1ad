import type { Position, TextEdit } from "../types.ts";

// Text edits use 1-based line/column positions in UTF-16 code units. Lines end at
// "\n"; a "\r\n" file keeps its "\r" as the last character of each line, so an edit
// that replaces whole lines must carry the file's own line ending (see lineEnding()).

export class OverlappingEditsError extends Error {
  constructor(readonly first: TextEdit, readonly second: TextEdit) {
    super(
      `edits overlap at ${second.path}:${second.start.line}:${second.start.column} (previous edit ends at ${first.end.line}:${first.end.column})`,
    );
    this.name = "OverlappingEditsError";
  }
}

export class PositionOutOfRangeError extends Error {
  constructor(readonly position: Position) {
    super(`position ${position.line}:${position.column} is outside the file`);
    this.name = "PositionOutOfRangeError";
  }
}

/** Offsets of the first character of each line. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) starts.push(i + 1);
  }
  return starts;
}

export function offsetOf(text: string, starts: readonly number[], position: Position): number {
  const lineStart = starts[position.line - 1];
  if (lineStart === undefined || position.column < 1) throw new PositionOutOfRangeError(position);
  const offset = lineStart + position.column - 1;
  const nextLineStart = starts[position.line] ?? text.length;
  // A column may point just past the last character of the line (before its "\n").
  if (offset > nextLineStart) throw new PositionOutOfRangeError(position);
  return offset;
}

export function positionOf(starts: readonly number[], offset: number): Position {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low] + 1 };
}

export function lineEnding(text: string): "\r\n" | "\n" {
  const firstNewline = text.indexOf("\n");
  return firstNewline > 0 && text[firstNewline - 1] === "\r" ? "\r\n" : "\n";
}

export function comparePositions(a: Position, b: Position): number {
  return a.line - b.line || a.column - b.column;
}

/**
 * Apply edits that belong to one file. Identical edits are applied once; overlapping
 * ones are an error because merging them could produce code nobody reviewed.
 */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const starts = lineStarts(text);
  const resolved = dedupeEdits(edits)
    .map((edit) => ({ edit, from: offsetOf(text, starts, edit.start), to: offsetOf(text, starts, edit.end) }))
    .sort((a, b) => a.from - b.from || a.to - b.to);
  let output = "";
  let cursor = 0;
  let previous: TextEdit | null = null;
  for (const { edit, from, to } of resolved) {
    if (to < from) throw new PositionOutOfRangeError(edit.end);
    if (from < cursor && previous) throw new OverlappingEditsError(previous, edit);
    output += text.slice(cursor, from) + edit.text;
    cursor = to;
    previous = edit;
  }
  return output + text.slice(cursor);
}

/** True when no two edits overlap (so they can be applied in one pass). */
export function editsOverlap(a: readonly TextEdit[], b: readonly TextEdit[]): boolean {
  for (const x of a) {
    for (const y of b) {
      if (x.path !== y.path) continue;
      const xBeforeY = comparePositions(x.end, y.start) <= 0;
      const yBeforeX = comparePositions(y.end, x.start) <= 0;
      if (!xBeforeY && !yBeforeX) return true;
    }
  }
  return false;
}

function dedupeEdits(edits: readonly TextEdit[]): TextEdit[] {
  const seen = new Set<string>();
  const unique: TextEdit[] = [];
  for (const edit of edits) {
    const key = `${edit.start.line}:${edit.start.column}-${edit.end.line}:${edit.end.column}:${edit.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(edit);
  }
  return unique;
}
