import type { Finding } from "../analyzer/index.ts";
import type { Classified, FailOn } from "./analysis.ts";

// What the check run (or, in token mode, the summary comment) says.

export const checkName = "Poolguard";
export const fixActionIdentifier = "poolguard-fix";
/** GitHub takes at most 50 annotations per create/update call. */
export const annotationBatch = 50;
/** Annotations Poolguard sends at most; the rest are counted in the summary. */
export const maxAnnotations = 500;
const maxOutputBytes = 65_535;

export type Annotation = {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: "notice" | "warning" | "failure";
  title: string;
  message: string;
};

const level = { info: "notice", warning: "warning", error: "failure" } as const;

export function annotationFor(f: Classified): Annotation {
  const single = f.line === f.end_line;
  return {
    path: f.path,
    start_line: f.line,
    end_line: Math.max(f.line, f.end_line),
    ...(single && f.end_column > f.column ? { start_column: f.column, end_column: f.end_column } : {}),
    annotation_level: level[f.severity],
    title: truncate(`${f.rule}${f.status === "pre-existing" ? " (pre-existing)" : ""}`, 255),
    message: truncate(f.message, 64_000),
  };
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  const note = "\n\n…(cut to GitHub's size limit)";
  let cut = text.slice(0, max - note.length);
  while (Buffer.byteLength(cut) + Buffer.byteLength(note) > max) cut = cut.slice(0, -100);
  return cut + note;
}

export function dashboardLink(baseUrl: string | undefined, repositoryId: string | null, f: Finding): string | null {
  if (!baseUrl) return null;
  // The findings list filtered to this rule and file (the list's own URL filters).
  const params = new URLSearchParams({ ...(repositoryId ? { repository: repositoryId } : {}), rule: f.rule, path: f.path, status: "any" });
  return `${baseUrl.replace(/\/$/, "")}/findings?${params}`;
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

export type SummaryInput = {
  findings: Classified[];
  fixed: Finding[];
  failOn: FailOn;
  annotated: number;
  suggested: number;
  baseUrl?: string;
  repositoryId?: string | null;
  /** Extra paragraphs (e.g. why a fix could not be pushed). */
  notes?: string[];
};

export function titleFor(input: { findings: Classified[]; fixed: Finding[] }): string {
  const fresh = input.findings.filter((f) => f.status === "new").length;
  const old = input.findings.length - fresh;
  const parts = [`${fresh} new`, `${old} pre-existing`, `${input.fixed.length} fixed`];
  return `${parts.join(", ")} findings`;
}

export function summaryFor(input: SummaryInput): string {
  const fresh = input.findings.filter((f) => f.status === "new");
  const old = input.findings.filter((f) => f.status === "pre-existing");
  const lines = [
    "| | findings |",
    "|---|---|",
    `| new in this pull request | ${fresh.length} |`,
    `| pre-existing in the files it changes | ${old.length} |`,
    `| fixed by this pull request | ${input.fixed.length} |`,
    "",
    input.failOn === "never" ? "This repository's settings never fail the check." : `New findings of severity **${input.failOn}** or above fail this check (configured on the base branch's repository settings).`,
  ];
  const rest = input.findings.length - input.annotated;
  if (input.annotated > 0) lines.push("", `${input.annotated} shown as annotations${input.suggested > 0 ? `, ${input.suggested} with a suggested change in the review` : ""}.`);
  if (rest > 0) lines.push(`${rest} more not annotated (GitHub shows a limited number); see the table below${input.baseUrl ? " or the dashboard" : ""}.`);
  const row = (f: Finding, status: string) => {
    const link = dashboardLink(input.baseUrl, input.repositoryId ?? null, f);
    const rule = link ? `[${f.rule}](${link})` : `\`${f.rule}\``;
    return `| ${status} | ${f.severity} | ${rule} | \`${escapeCell(f.path)}:${f.line}\` | ${escapeCell(truncate(f.message, 200))} |`;
  };
  const rows = [...fresh.map((f) => row(f, "new")), ...old.map((f) => row(f, "pre-existing")), ...input.fixed.map((f) => row(f, "fixed"))];
  if (rows.length > 0) lines.push("", "| status | severity | rule | where | message |", "|---|---|---|---|---|", ...rows.slice(0, 200));
  if (rows.length > 200) lines.push("", `…and ${rows.length - 200} more.`);
  for (const note of input.notes ?? []) lines.push("", note);
  return truncateBytes(lines.join("\n"), maxOutputBytes);
}

/** Annotation batches: most severe first (findings arrive sorted), 50 per call, at most maxAnnotations. */
export function annotationBatches(findings: Classified[], limit = maxAnnotations): Annotation[][] {
  const all = findings.slice(0, limit).map(annotationFor);
  const batches: Annotation[][] = [];
  for (let i = 0; i < all.length; i += annotationBatch) batches.push(all.slice(i, i + annotationBatch));
  return batches;
}
