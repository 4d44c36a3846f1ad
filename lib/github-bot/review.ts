import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import picomatch from "picomatch";
import { type Finding, listRules, type PoolguardConfig, parseConfig, type RuleId, type Severity, scan } from "../analyzer/index.ts";
import { defaultConfig } from "../analyzer/config/load-config.ts";
import { findingsAtCommit } from "../db/github-bot.ts";
import type { StoredFinding } from "../db/types.ts";
import { downloadSnapshotIntoMemory, type GitHubClient } from "../github/index.ts";
import { type Classified, classifyFindings, conclusionFor, type FailOn, fenceFor, type PullRequestFindings, type Suggestion, suggestionFor } from "./analysis.ts";
import { type FileDiff, parsePatch } from "./diff.ts";
import { findingMarker, parseFindingMarker, resolvedNote, summaryMarker } from "./markers.ts";
import { annotationBatches, checkName, fixActionIdentifier, summaryFor, titleFor } from "./report.ts";
import { reviewScope } from "./scope.ts";

// Reviewing one pull request: scan the files it changes at its head, with what they
// import indexed (scope.ts), compare with the merge base by fingerprint (the stored
// findings of the default branch's scan of that commit, else a scan like the head's), then
// report (a check run with annotations and review suggestions as an App; a commit
// status and one summary comment with a token).

export type Log = { info: (m: string, d?: Record<string, unknown>) => void; error: (m: string, d?: Record<string, unknown>) => void };
const quiet: Log = { info() {}, error() {} };

export class SupersededError extends Error {
  constructor(message = "a newer commit of this pull request is being reviewed") {
    super(message);
    this.name = "SupersededError";
  }
}

export type PullRequestInfo = {
  number: number;
  state: string;
  headSha: string;
  headRef: string;
  headRepo: string | null;
  baseRef: string;
  baseSha: string;
  baseRepo: string;
  /** The head lives in another repository: the App may not push to it. */
  fork: boolean;
};

export async function getPullRequest(client: GitHubClient, owner: string, repo: string, number: number): Promise<PullRequestInfo> {
  const { data } = await client.octokit.rest.pulls.get({ owner, repo, pull_number: number });
  const headRepo = data.head.repo?.full_name ?? null;
  return {
    number,
    state: data.state,
    headSha: data.head.sha,
    headRef: data.head.ref,
    headRepo,
    baseRef: data.base.ref,
    baseSha: data.base.sha,
    baseRepo: data.base.repo.full_name,
    fork: headRepo === null || headRepo.toLowerCase() !== data.base.repo.full_name.toLowerCase(),
  };
}

export type Analysis = PullRequestFindings & {
  pull: PullRequestInfo;
  mergeBase: string;
  diffs: Map<string, FileDiff>;
  /** Text of changed files at the head (for suggestions). */
  headText: Map<string, string>;
  config: PoolguardConfig | undefined;
  configPath: string | null;
  /** Where the merge base's findings came from: the stored scan of that commit, or a scan made for this review. */
  baseSource: "stored" | "scanned";
  timings: Record<string, number>;
};

function knownRules(): RuleId[] {
  return listRules().map((r) => r.id as RuleId);
}

/**
 * The repository's config as the BASE commit has it: a pull request cannot switch its
 * own checks off. Without one, the defaults, passed explicitly: a config file the pull
 * request adds is never read.
 */
export async function baseConfig(client: GitHubClient, owner: string, repo: string, baseSha: string): Promise<{ config: PoolguardConfig; path: string | null }> {
  const file = await client.readConfigFile(owner, repo, baseSha);
  if (!file) return { config: defaultConfig(), path: null };
  return { config: parseConfig(file.text, file.path, knownRules()), path: file.path };
}

function check(signal: AbortSignal | undefined) {
  if (signal?.aborted) throw new SupersededError();
}

/** Every file of a commit, in memory (the snapshot is read without touching the disk). */
async function commitTexts(client: GitHubClient, owner: string, repo: string, sha: string): Promise<Map<string, string>> {
  const { files } = await downloadSnapshotIntoMemory(client, { owner, repo, sha });
  return new Map(files.map((f) => [f.path, f.text]));
}

/**
 * Scan the changed files of one commit with the files they need indexed (reviewScope):
 * only those, and the repository's .gitignore files, are written to a temporary folder.
 */
async function scanScope(texts: Map<string, string>, paths: string[], config: PoolguardConfig | undefined, jobs: number | undefined) {
  const present = paths.filter((p) => texts.has(p));
  if (present.length === 0) return { findings: [] as Finding[], skipped: new Set<string>(), indexed: 0 };
  const scope = reviewScope(texts, present);
  for (const path of texts.keys()) if (path === ".gitignore" || path.endsWith("/.gitignore")) scope.add(path);
  const root = mkdtempSync(join(tmpdir(), "poolguard-pr-"));
  try {
    for (const path of scope) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), texts.get(path) as string);
    }
    const result = await scan({ root, only: present.map((p) => join(root, p)), config, jobs });
    return { findings: result.findings, skipped: new Set(result.skipped.map((s) => s.path)), indexed: scope.size };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Findings stored for the merge base, as the analyzer's findings, keeping only what this
 * review could have reported there: rules the base config enables, files it does not
 * ignore (`skipped` at the head) and test files only when tests are reported. Without
 * that, a finding of a rule the repository's config turns off would count as "fixed".
 */
function storedBaseFindings(stored: StoredFinding[], config: PoolguardConfig, skipped: Set<string>): Finding[] {
  const rules = new Map(listRules().map((r) => [r.id as string, r.defaultSeverity as string]));
  const enabled = (rule: string) => rules.has(rule) && (config.rules[rule as RuleId] ?? rules.get(rule)) !== "off";
  const tests = config.tests;
  const isTest = tests && tests.severity === "off" && tests.paths.length > 0 ? picomatch(tests.paths, { dot: true }) : () => false;
  return stored
    .filter((f) => enabled(f.rule) && !skipped.has(f.path) && !isTest(f.path))
    .map((f) => ({
      rule: f.rule as RuleId,
      severity: f.severity as Severity,
      message: f.message,
      path: f.path,
      line: f.line,
      column: f.column,
      end_line: f.endLine,
      end_column: f.endColumn,
      fingerprint: f.fingerprint,
      suppressed: f.suppressed,
      fix: null,
    }));
}

let warming: Promise<void> | null = null;

/**
 * Load the analyzer's language plugins (parsers, models, the TypeScript compiler) in
 * this process ahead of the first review: job runners call it when they start, so the
 * first pull request does not pay for it.
 */
export function warmAnalyzer(): Promise<void> {
  warming ??= (async () => {
    const root = mkdtempSync(join(tmpdir(), "poolguard-warm-"));
    try {
      writeFileSync(join(root, "warm.py"), "def f():\n    return 1\n");
      writeFileSync(join(root, "warm.ts"), "export const f = () => 1;\n");
      await scan({ root, jobs: 1 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  })().catch(() => {});
  return warming;
}

export async function analyzePullRequest(
  client: GitHubClient,
  input: { owner: string; repo: string; number: number; headSha?: string; signal?: AbortSignal; pull?: PullRequestInfo; jobs?: number; repositoryId?: string | null },
): Promise<Analysis> {
  const { owner, repo } = input;
  const timings: Record<string, number> = {};
  let t = Date.now();
  const pull = input.pull ?? (await getPullRequest(client, owner, repo, input.number));
  if (input.headSha && pull.headSha !== input.headSha) throw new SupersededError(`the pull request's head is now ${pull.headSha.slice(0, 7)}`);
  // The head's snapshot downloads while the metadata is read.
  const headTexts = commitTexts(client, owner, repo, pull.headSha);
  headTexts.catch(() => {});
  const [compare, files, cfg] = await Promise.all([
    client.octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${pull.baseSha}...${pull.headSha}`, per_page: 1 }),
    client.octokit.paginate(client.octokit.rest.pulls.listFiles, { owner, repo, pull_number: input.number, per_page: 100 }),
    baseConfig(client, owner, repo, pull.baseSha),
  ]);
  const mergeBase = compare.data.merge_base_commit.sha;
  // The merge base's findings as the last scan of the default branch stored them, when
  // that scan was of this very commit: then the merge base needs no scan of its own.
  const stored = input.repositoryId ? await findingsAtCommit(input.repositoryId, mergeBase) : null;
  timings.metadataMs = Date.now() - t;
  check(input.signal);
  const diffs = new Map<string, FileDiff>();
  for (const f of files) {
    if (f.status === "removed") continue;
    diffs.set(f.filename, { path: f.filename, status: f.status, hunks: parsePatch(f.filename, f.patch) });
  }
  const headPaths = [...diffs.keys()];
  // At the merge base the changed files may have other names (renames).
  const basePaths = files.map((f) => (f.status === "renamed" && f.previous_filename ? f.previous_filename : f.filename));
  t = Date.now();
  const scanBase = async () => {
    if (stored) return null;
    const texts = await commitTexts(client, owner, repo, mergeBase);
    check(input.signal);
    return scanScope(texts, basePaths, cfg.config, input.jobs);
  };
  const [headFiles, scannedBase] = await Promise.all([headTexts, scanBase()]);
  timings.downloadMs = Date.now() - t;
  check(input.signal);
  const tScan = Date.now();
  const head = await scanScope(headFiles, headPaths, cfg.config, input.jobs);
  timings.headScanMs = Date.now() - tScan;
  timings.indexedFiles = head.indexed;
  timings.scanMs = Date.now() - t;
  check(input.signal);
  const baseFindings = stored ? storedBaseFindings(stored.findings, cfg.config, head.skipped) : (scannedBase?.findings ?? []);
  const headText = new Map<string, string>();
  for (const path of headPaths) {
    const text = headFiles.get(path);
    if (text !== undefined) headText.set(path, text);
  }
  const classified = classifyFindings({ head: head.findings, base: baseFindings, changedPaths: [...headPaths, ...basePaths] });
  return { ...classified, pull, mergeBase, diffs, headText, config: cfg.config, configPath: cfg.path, baseSource: stored ? "stored" : "scanned", timings };
}

export type ReviewOptions = {
  owner: string;
  repo: string;
  number: number;
  /** The head the event was about; a different current head means this work is stale. */
  headSha?: string;
  failOn: FailOn;
  baseUrl?: string;
  repositoryId?: string | null;
  signal?: AbortSignal;
  /**
   * Claims the pull request once this work is known to be for its current head; the
   * claim's signal replaces `signal`. Claiming only after the head check means work on
   * an older head, arriving late, can never cancel the review of the newer one.
   */
  claim?: (headSha: string) => { signal: AbortSignal; release: () => void };
  log?: Log;
  jobs?: number;
};

export type ReviewResult = {
  kind: "reviewed";
  headSha: string;
  checkRunId: number;
  conclusion: "success" | "failure" | "neutral";
  findings: Classified[];
  fixed: Finding[];
  annotated: number;
  suggestionsPosted: number;
  commentsResolved: number;
  timings: Record<string, number>;
};

type ExistingComment = { id: number; body: string; fingerprint: string };

async function ourReviewComments(client: GitHubClient, owner: string, repo: string, number: number): Promise<ExistingComment[]> {
  const comments = await client.octokit.paginate(client.octokit.rest.pulls.listReviewComments, { owner, repo, pull_number: number, per_page: 100 });
  const result: ExistingComment[] = [];
  for (const c of comments) {
    const fingerprint = parseFindingMarker(c.body);
    if (fingerprint) result.push({ id: c.id, body: c.body, fingerprint });
  }
  return result;
}

export function suggestionBody(f: Classified, s: Suggestion): string {
  const fence = fenceFor(s.replacement);
  const fix = f.fix?.description ? `\n\n${f.fix.description}:` : "";
  return `**Poolguard** \`${f.rule}\` (${f.severity}${f.status === "pre-existing" ? ", pre-existing" : ""}): ${f.message}${fix}\n\n${fence}suggestion\n${s.replacement}\n${fence}\n\n${findingMarker(f.fingerprint)}`;
}

/** The suggestions this analysis can post: safe fixes whose lines lie in one hunk, one per line. */
export function plannedSuggestions(analysis: Analysis): { finding: Classified; suggestion: Suggestion }[] {
  const planned: { finding: Classified; suggestion: Suggestion }[] = [];
  const used = new Set<string>();
  for (const finding of analysis.findings) {
    const text = analysis.headText.get(finding.path);
    if (text === undefined) continue;
    const suggestion = suggestionFor(finding, text, analysis.diffs.get(finding.path));
    if (!suggestion) continue;
    // GitHub refuses two suggestions on the same lines in one review.
    const lines = Array.from({ length: suggestion.line - suggestion.startLine + 1 }, (_, i) => `${finding.path}:${suggestion.startLine + i}`);
    if (lines.some((l) => used.has(l))) continue;
    for (const l of lines) used.add(l);
    planned.push({ finding, suggestion });
  }
  return planned;
}

/**
 * The check run for this head: an unfinished one of ours is taken over (the work for
 * this head was interrupted, e.g. its worker died, and runs again), else a new one.
 * Idempotent on repository + head + check name, so a retried job never leaves a second
 * run spinning forever.
 */
async function startCheckRun(client: GitHubClient, owner: string, repo: string, number: number, headSha: string): Promise<{ id: number }> {
  const output = { title: "Checking the files this pull request changes", summary: "Poolguard is scanning the pull request." };
  const { data: existing } = await client.octokit.rest.checks.listForRef({ owner, repo, ref: headSha, check_name: checkName, filter: "latest", per_page: 100 });
  const unfinished = existing.check_runs.find((r) => r.status !== "completed" && r.external_id === `pr-${number}` && r.head_sha === headSha);
  if (unfinished) {
    await client.octokit.rest.checks.update({ owner, repo, check_run_id: unfinished.id, status: "in_progress", output });
    return { id: unfinished.id };
  }
  const { data } = await client.octokit.rest.checks.create({
    owner,
    repo,
    name: checkName,
    head_sha: headSha,
    status: "in_progress",
    started_at: new Date().toISOString(),
    external_id: `pr-${number}`,
    output,
  });
  return { id: data.id };
}

/** The check run flow (GitHub App). */
export async function reviewPullRequest(client: GitHubClient, options: ReviewOptions): Promise<ReviewResult> {
  const { owner, repo, number } = options;
  const log = options.log ?? quiet;
  const started = Date.now();
  const pull = await getPullRequest(client, owner, repo, number);
  if (options.headSha && pull.headSha !== options.headSha) throw new SupersededError(`the pull request's head is now ${pull.headSha.slice(0, 7)}`);
  const claim = options.claim?.(pull.headSha);
  try {
    return await reviewCurrentHead(client, claim ? { ...options, signal: claim.signal } : options, pull, started);
  } finally {
    claim?.release();
  }
}

async function reviewCurrentHead(client: GitHubClient, options: ReviewOptions, pull: PullRequestInfo, started: number): Promise<ReviewResult> {
  const { owner, repo, number } = options;
  const log = options.log ?? quiet;
  const run = await startCheckRun(client, owner, repo, number, pull.headSha);
  try {
    const analysis = await analyzePullRequest(client, { ...options, pull });
    check(options.signal);
    const t = Date.now();
    const result = await report(client, options, analysis, run.id);
    result.timings = { ...analysis.timings, reportMs: Date.now() - t, totalMs: Date.now() - started };
    log.info("pull request reviewed", { owner, repo, number, headSha: pull.headSha, conclusion: result.conclusion, findings: result.findings.length, ...result.timings });
    return result;
  } catch (error) {
    const superseded = error instanceof SupersededError;
    await client.octokit.rest.checks.update({
      owner,
      repo,
      check_run_id: run.id,
      conclusion: superseded ? "cancelled" : "failure",
      completed_at: new Date().toISOString(),
      output: superseded
        ? { title: "Superseded by a newer commit", summary: "A newer commit was pushed to this pull request; Poolguard reviews that one instead." }
        : { title: "Poolguard could not check this pull request", summary: `The check could not run: ${(error as Error).message.slice(0, 2000)}` },
    });
    throw error;
  }
}

async function report(client: GitHubClient, options: ReviewOptions, analysis: Analysis, checkRunId: number): Promise<ReviewResult> {
  const { owner, repo, number } = options;
  const octokit = client.octokit.rest;
  const existing = await ourReviewComments(client, owner, repo, number);
  const posted = new Set(existing.map((c) => c.fingerprint));
  const planned = plannedSuggestions(analysis);
  const suggested = new Set(planned.map((p) => p.finding.fingerprint));
  // Everything without a review suggestion stays an annotation.
  const toAnnotate = analysis.findings.filter((f) => !suggested.has(f.fingerprint));
  const batches = annotationBatches(toAnnotate);
  const annotated = batches.reduce((n, b) => n + b.length, 0);
  const conclusion = conclusionFor(analysis.findings, options.failOn);
  const hasSafeFixes = analysis.findings.some((f) => f.fix?.safety === "safe");
  const output = {
    title: titleFor(analysis),
    summary: summaryFor({
      findings: analysis.findings,
      fixed: analysis.fixed,
      failOn: options.failOn,
      annotated: annotated + planned.length,
      suggested: planned.length,
      baseUrl: options.baseUrl,
      repositoryId: options.repositoryId,
      notes: analysis.configPath ? [`Configuration: \`${analysis.configPath}\` at the base commit ${analysis.pull.baseSha.slice(0, 7)}.`] : [],
    }),
  };

  // Review suggestions first: the check's summary can then say what was posted.
  let suggestionsPosted = 0;
  const fresh = planned.filter((p) => !posted.has(p.finding.fingerprint));
  if (fresh.length > 0) {
    check(options.signal);
    await octokit.pulls.createReview({
      owner,
      repo,
      pull_number: number,
      commit_id: analysis.pull.headSha,
      event: "COMMENT",
      body: `Poolguard suggests ${fresh.length} change${fresh.length === 1 ? "" : "s"} for session and connection lifecycle findings in this pull request.`,
      comments: fresh.map(({ finding, suggestion }) => ({
        path: suggestion.path,
        line: suggestion.line,
        side: "RIGHT" as const,
        ...(suggestion.startLine < suggestion.line ? { start_line: suggestion.startLine, start_side: "RIGHT" as const } : {}),
        body: suggestionBody(finding, suggestion),
      })),
    });
    suggestionsPosted = fresh.length;
  }
  // Comments whose finding is gone say so (once).
  const current = new Set(analysis.findings.map((f) => f.fingerprint));
  let commentsResolved = 0;
  for (const comment of existing) {
    if (current.has(comment.fingerprint) || comment.body.includes(resolvedNote)) continue;
    await octokit.pulls.updateReviewComment({ owner, repo, comment_id: comment.id, body: `${resolvedNote}\n\n<details><summary>Original comment</summary>\n\n${comment.body.replace(findingMarker(comment.fingerprint), "")}\n</details>\n\n${findingMarker(comment.fingerprint)}` });
    commentsResolved++;
  }

  // Annotations 50 per call; the last call completes the run.
  const completion = {
    conclusion,
    completed_at: new Date().toISOString(),
    ...(hasSafeFixes ? { actions: [{ label: "Fix these", description: "Push the safe fixes to this branch", identifier: fixActionIdentifier }] } : {}),
  };
  if (batches.length === 0) {
    await octokit.checks.update({ owner, repo, check_run_id: checkRunId, ...completion, output });
  } else {
    for (let i = 0; i < batches.length; i++) {
      check(options.signal);
      const last = i === batches.length - 1;
      await octokit.checks.update({ owner, repo, check_run_id: checkRunId, ...(last ? completion : {}), output: { ...output, annotations: batches[i] } });
    }
  }
  return {
    kind: "reviewed",
    headSha: analysis.pull.headSha,
    checkRunId,
    conclusion,
    findings: analysis.findings,
    fixed: analysis.fixed,
    annotated,
    suggestionsPosted,
    commentsResolved,
    timings: {},
  };
}

export type TokenCheckResult = { state: "success" | "failure"; headSha: string; commentId: number; commentAction: "created" | "updated" | "unchanged"; findings: Classified[]; fixed: Finding[] };

/** Token mode (no App, so no check runs): a commit status and one summary comment, updated in place. */
export async function checkPullRequestWithToken(client: GitHubClient, options: ReviewOptions & { context?: string }): Promise<TokenCheckResult> {
  const { owner, repo, number } = options;
  const analysis = await analyzePullRequest(client, options);
  const conclusion = conclusionFor(analysis.findings, options.failOn);
  const state = conclusion === "failure" ? "failure" : "success";
  const title = titleFor(analysis);
  await client.octokit.rest.repos.createCommitStatus({
    owner,
    repo,
    sha: analysis.pull.headSha,
    state,
    context: options.context ?? "poolguard",
    description: title.slice(0, 140),
    ...(options.baseUrl ? { target_url: `${options.baseUrl.replace(/\/$/, "")}/findings` } : {}),
  });
  const body = `## Poolguard\n\n${title} in commit ${analysis.pull.headSha.slice(0, 7)}.\n\n${summaryFor({ findings: analysis.findings, fixed: analysis.fixed, failOn: options.failOn, annotated: 0, suggested: 0, baseUrl: options.baseUrl, repositoryId: options.repositoryId })}\n\n${summaryMarker}`;
  const comments = await client.octokit.paginate(client.octokit.rest.issues.listComments, { owner, repo, issue_number: number, per_page: 100 });
  const mine = comments.find((c) => c.body?.includes(summaryMarker));
  if (!mine) {
    const { data } = await client.octokit.rest.issues.createComment({ owner, repo, issue_number: number, body });
    return { state, headSha: analysis.pull.headSha, commentId: data.id, commentAction: "created", findings: analysis.findings, fixed: analysis.fixed };
  }
  if (mine.body === body) return { state, headSha: analysis.pull.headSha, commentId: mine.id, commentAction: "unchanged", findings: analysis.findings, fixed: analysis.fixed };
  await client.octokit.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
  return { state, headSha: analysis.pull.headSha, commentId: mine.id, commentAction: "updated", findings: analysis.findings, fixed: analysis.fixed };
}
