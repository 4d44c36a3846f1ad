// Pure scoring for the labelled recall corpus (bench/recall.ts does the I/O).
//
// A "bug" case has two versions: the buggy file must carry a finding of the expected rule
// inside the recorded line range (recall), and the fixed file must carry none of that rule
// inside the recorded fixed range (precision). A "clean" case has one version, a correct
// look-alike, that must carry no finding of the rule in its range.
// Ranges are widened by `tolerance` lines on each side: fixes and refactors shift lines.

export type CaseKind = "bug" | "clean";
/**
 * dev: for developing the analyzer; holdout, holdout2: never used for tuning when collected
 * (holdout2 was collected blind, then used for tuning); holdout3: collected blind; holdout4: collected blind later
 * (tuning data since 2026-12-01 22:00 UTC); holdout5: collected blind after that (tuning data since
 * 2026-12-01 23:15 UTC); holdout6: collected blind on 2026-12-02.
 */
export type CaseSet = "dev" | "holdout" | "holdout2" | "holdout3" | "holdout4" | "holdout5" | "holdout6";
export const caseSets: readonly CaseSet[] = ["dev", "holdout", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6"];
export type Language = "python" | "typescript";

export type CorpusCase = {
  id: string;
  set: CaseSet;
  repo: string;
  language: Language;
  rule: string;
  kind: CaseKind;
  /** bug: the commit that fixed it. clean: the commit holding the look-alike. */
  fix_commit: string;
  /** bug: the fix's parent, the buggy version. Absent for clean cases. */
  buggy_commit?: string;
  /** Path in the buggy version (bug) or in the look-alike's commit (clean). */
  path: string;
  /** Path in the fixed version when the fix renamed the file. */
  fixed_path?: string;
  /** bug: the acquisition's line range in the buggy file. clean: the look-alike's range. */
  lines: [number, number];
  /** bug: the same function/region in the fixed file. */
  fixed_lines?: [number, number];
  /** Limit tree extraction to these paths (huge repositories); default: the whole tree. */
  scope?: string[];
  note: string;
};

/** The parts of a CLI JSON finding that scoring needs. */
export type ScoredFinding = { rule: string; path: string; line: number; end_line?: number; suppressed?: boolean };

/** Findings of one file version: null when the version could not be scanned. */
export type VersionFindings = { findings: ScoredFinding[]; error?: string };

export type CaseOutcome = {
  id: string;
  set: CaseSet;
  repo: string;
  language: Language;
  rule: string;
  kind: CaseKind;
  /** bug cases: a finding of the rule in the buggy range. */
  detected: boolean | null;
  /** A finding of the rule in the fixed/clean range. */
  falseAlarm: boolean;
  /** Rule findings anywhere in the buggy / fixed file (context only). */
  buggyFileFindings: ScoredFinding[];
  fixedFileFindings: ScoredFinding[];
  /** Lines of the expected rule's findings that matched (or, for misses, what else was found). */
  buggyHits: ScoredFinding[];
  fixedHits: ScoredFinding[];
  error?: string;
};

export type Tally = {
  bugs: number;
  detected: number;
  /** Versions that must stay clean: fixed versions of bug cases plus clean cases. */
  cleanVersions: number;
  falseAlarms: number;
  recall: number | null;
  precision: number | null;
  errors: number;
};

export const defaultTolerance = 3;

export function inRange(line: number, range: [number, number], tolerance = defaultTolerance): boolean {
  const [from, to] = range[0] <= range[1] ? range : [range[1], range[0]];
  return line >= from - tolerance && line <= to + tolerance;
}

function hitsIn(findings: ScoredFinding[], rule: string, range: [number, number] | undefined, tolerance: number): ScoredFinding[] {
  if (!range) return [];
  return findings.filter((f) => !f.suppressed && f.rule === rule && inRange(f.line, range, tolerance));
}

/**
 * Scores one case. `buggy` is the buggy version's findings for bug cases and null for
 * clean cases; `fixed` is the fixed version (bug) or the look-alike (clean).
 */
export function scoreCase(c: CorpusCase, buggy: VersionFindings | null, fixed: VersionFindings | null, tolerance = defaultTolerance): CaseOutcome {
  const error = [buggy?.error, fixed?.error].filter(Boolean).join("; ") || undefined;
  const buggyFindings = buggy?.findings ?? [];
  const fixedFindings = fixed?.findings ?? [];
  const fixedRange = c.kind === "bug" ? c.fixed_lines : c.lines;
  const buggyHits = c.kind === "bug" ? hitsIn(buggyFindings, c.rule, c.lines, tolerance) : [];
  const fixedHits = hitsIn(fixedFindings, c.rule, fixedRange, tolerance);
  return {
    id: c.id,
    set: c.set,
    repo: c.repo,
    language: c.language,
    rule: c.rule,
    kind: c.kind,
    detected: c.kind === "bug" ? buggyHits.length > 0 : null,
    falseAlarm: fixedHits.length > 0,
    buggyFileFindings: buggyFindings.filter((f) => !f.suppressed),
    fixedFileFindings: fixedFindings.filter((f) => !f.suppressed),
    buggyHits,
    fixedHits,
    error,
  };
}

/**
 * Recall = detected bugs / bugs. Precision = TP / (TP + FP), where TP is the detected
 * bugs and FP the versions that must stay clean (fixed or look-alike) yet carry a finding
 * of the expected rule in their region. Each version counts once, however many findings.
 */
export function tally(outcomes: CaseOutcome[]): Tally {
  let bugs = 0;
  let detected = 0;
  let cleanVersions = 0;
  let falseAlarms = 0;
  let errors = 0;
  for (const o of outcomes) {
    if (o.error) errors += 1;
    if (o.kind === "bug") {
      bugs += 1;
      if (o.detected) detected += 1;
    }
    cleanVersions += 1;
    if (o.falseAlarm) falseAlarms += 1;
  }
  return {
    bugs,
    detected,
    cleanVersions,
    falseAlarms,
    recall: bugs === 0 ? null : detected / bugs,
    precision: detected + falseAlarms === 0 ? null : detected / (detected + falseAlarms),
    errors,
  };
}

export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Problems in the case list itself: caught before anything is scanned. */
export function validateCases(cases: CorpusCase[]): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const setOfRepo = new Map<string, CaseSet>();
  const sha = /^[0-9a-f]{40}$/;
  for (const c of cases) {
    const where = `case ${c.id ?? "(no id)"}`;
    if (!c.id) problems.push(`${where}: no id`);
    if (ids.has(c.id)) problems.push(`${where}: duplicate id`);
    ids.add(c.id);
    if (!caseSets.includes(c.set)) problems.push(`${where}: set must be one of ${caseSets.join(", ")}`);
    if (c.language !== "python" && c.language !== "typescript") problems.push(`${where}: language must be python or typescript`);
    if (c.kind !== "bug" && c.kind !== "clean") problems.push(`${where}: kind must be bug or clean`);
    if (!/^[^/\s]+\/[^/\s]+$/.test(c.repo ?? "")) problems.push(`${where}: repo must be owner/name`);
    if (!sha.test(c.fix_commit ?? "")) problems.push(`${where}: fix_commit must be a full sha`);
    if (c.kind === "bug" && !sha.test(c.buggy_commit ?? "")) problems.push(`${where}: buggy_commit must be a full sha`);
    if (c.kind === "bug" && !c.fixed_lines) problems.push(`${where}: bug cases need fixed_lines`);
    if (!Array.isArray(c.lines) || c.lines.length !== 2) problems.push(`${where}: lines must be [from, to]`);
    if (!c.note) problems.push(`${where}: no note`);
    const previous = setOfRepo.get(c.repo);
    if (previous && previous !== c.set) problems.push(`${where}: ${c.repo} is in both ${previous} and ${c.set}`);
    setOfRepo.set(c.repo, c.set);
  }
  return problems;
}
