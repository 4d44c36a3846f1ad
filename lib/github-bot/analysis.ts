import type { Finding, Severity, TextEdit } from "../analyzer/index.ts";
import { type FileDiff, hunkFor } from "./diff.ts";

// The pure part of a pull request review: which findings belong to the pull request,
// which are new, which are gone, which fixes can be review suggestions.

export type Classified = Finding & { status: "new" | "pre-existing" };

export type PullRequestFindings = {
  /** Findings at the head, in files the pull request changes, most severe first. */
  findings: Classified[];
  /** Findings at the merge base, in changed files, that the head no longer has. */
  fixed: Finding[];
};

export const severityRank: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export function bySeverity<T extends Finding>(a: T, b: T): number {
  return severityRank[b.severity] - severityRank[a.severity] || a.path.localeCompare(b.path) || a.line - b.line;
}

export function classifyFindings(input: { head: Finding[]; base: Finding[]; changedPaths: Iterable<string> }): PullRequestFindings {
  const changed = new Set(input.changedPaths);
  const atBase = new Set(input.base.filter((f) => !f.suppressed).map((f) => f.fingerprint));
  const atHead = new Set(input.head.filter((f) => !f.suppressed).map((f) => f.fingerprint));
  const findings = input.head
    .filter((f) => !f.suppressed && changed.has(f.path))
    .map((f) => ({ ...f, status: atBase.has(f.fingerprint) ? ("pre-existing" as const) : ("new" as const) }))
    .sort(bySeverity);
  const fixed = input.base.filter((f) => !f.suppressed && changed.has(f.path) && !atHead.has(f.fingerprint)).sort(bySeverity);
  return { findings, fixed };
}

export type FailOn = Severity | "never";

export function conclusionFor(findings: Classified[], failOn: FailOn): "success" | "failure" | "neutral" {
  if (failOn !== "never" && findings.some((f) => f.status === "new" && severityRank[f.severity] >= severityRank[failOn])) return "failure";
  if (findings.length > 0) return "neutral";
  return "success";
}

export function parseFailOn(value: string | null | undefined): FailOn {
  return value === "info" || value === "warning" || value === "error" || value === "never" ? value : "warning";
}

export type Suggestion = { path: string; startLine: number; line: number; replacement: string };

function offsetOf(lineStarts: number[], text: string, line: number, column: number): number {
  const start = lineStarts[line - 1] ?? text.length;
  return Math.min(start + column - 1, text.length);
}

/**
 * A review suggestion for a finding's safe fix: the fix's edits applied to the lines
 * they touch, as the text that replaces exactly those lines. Null when the fix is not
 * safe, spans several files, or its lines do not all lie in one hunk of the diff.
 */
export function suggestionFor(finding: Finding, fileText: string, diff: FileDiff | undefined): Suggestion | null {
  const fix = finding.fix;
  if (!fix || fix.safety !== "safe" || fix.edits.length === 0) return null;
  if (fix.edits.some((e) => e.path !== finding.path)) return null;
  const startLine = Math.min(...fix.edits.map((e) => e.start.line));
  // An edit ending at column 1 of a line (an insertion before it) still touches only that line.
  const line = Math.max(...fix.edits.map((e) => e.end.line));
  if (!hunkFor(diff, startLine, line)) return null;
  const lineStarts = [0];
  for (let i = 0; i < fileText.length; i++) if (fileText[i] === "\n") lineStarts.push(i + 1);
  if (line > lineStarts.length) return null;
  const regionStart = lineStarts[startLine - 1] as number;
  const nextLine = lineStarts[line];
  const regionEnd = nextLine === undefined ? fileText.length : nextLine - 1;
  const edits = [...fix.edits].sort((a, b) => b.start.line - a.start.line || b.start.column - a.start.column);
  let region = fileText.slice(regionStart, regionEnd);
  for (const edit of edits as TextEdit[]) {
    const from = offsetOf(lineStarts, fileText, edit.start.line, edit.start.column) - regionStart;
    const to = offsetOf(lineStarts, fileText, edit.end.line, edit.end.column) - regionStart;
    if (from < 0 || to > region.length + 1 || from > to) return null;
    region = region.slice(0, from) + edit.text + region.slice(Math.min(to, region.length));
  }
  return { path: finding.path, startLine, line, replacement: region };
}

/** A fence longer than any run of backticks in the text, so the suggestion cannot break out. */
export function fenceFor(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return "`".repeat(longest + 1);
}
