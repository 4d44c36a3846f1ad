// Fix pull requests: one deterministic branch per group of findings, one commit on the
// current base built with the analyzer's verified safe fixes, and a pull request whose
// body explains every finding and carries a hidden fingerprint of its inputs.
//
// The rules (learned from Renovate and Dependabot):
// - the same inputs again: no write call at all;
// - changed findings: the branch is rebuilt as one fresh commit on the current base
//   (a forced update, only ever of a branch Poolguard made);
// - a commit by anyone else on the branch: Poolguard stops touching it and says why once;
// - closed without merge: not proposed again until the findings change;
// - at most `maxOpen` open fix pull requests per repository;
// - never a write to the default branch or to a branch Poolguard did not create.
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { createTwoFilesPatch } from "diff";
import { type Finding, listRules, loadConfig, type PoolguardConfig, type RuleId, scan } from "../analyzer/index.ts";
import type { GitHubClient, GitHubLogger } from "./client.ts";

export type FixGrouping = "rule" | "directory" | "repository";
/** One pull request per rule (the default), per folder, or one for the whole repository. */
export const fixGroupings: readonly FixGrouping[] = ["rule", "directory", "repository"];

export function isFixGrouping(value: unknown): value is FixGrouping {
  return typeof value === "string" && (fixGroupings as readonly string[]).includes(value);
}

export type FixPullRequestState = "open" | "closed" | "merged";

export type FixPullRequestAction =
  | "created"
  | "updated"
  | "unchanged"
  | "would-create"
  | "would-update"
  | "skipped-closed"
  | "skipped-foreign-commits"
  | "skipped-foreign-branch"
  | "skipped-limit"
  | "skipped-no-fix"
  | "closed-resolved"
  | "would-close";

export type FixedFile = { path: string; before: string; after: string };

export type FixPullRequestOutcome = {
  group: string;
  branch: string;
  title: string;
  body: string;
  action: FixPullRequestAction;
  /** Fingerprint of the inputs (findings, fixed file contents, base branch, grouping). */
  fingerprint: string;
  /** Fingerprint of the findings alone (what "closed, do not propose again" remembers). */
  findingsFingerprint: string;
  findings: Finding[];
  files: FixedFile[];
  number: number | null;
  url: string | null;
  state: FixPullRequestState | null;
  headSha: string | null;
  /** Why nothing was done (skipped-*), in plain words. */
  reason: string | null;
};

/** Where outcomes are recorded (the web app passes one backed by the database). */
export type FixPullRequestStore = {
  record(input: { owner: string; repo: string; baseBranch: string; outcome: FixPullRequestOutcome }): Promise<void>;
};

export type EnsureFixPullRequestsInput = {
  client: GitHubClient;
  owner: string;
  repo: string;
  /** The branch pull requests target (the default branch, usually). */
  baseBranch: string;
  /** Its head commit, which `root` holds a snapshot of. */
  baseSha: string;
  /** A snapshot of baseSha on disk (read only: fixes are computed on copies). */
  root: string;
  /** Findings of a full scan of `root` (not a partial one); scanned here when omitted. */
  findings?: Finding[];
  /**
   * Close open Poolguard pull requests whose findings are gone. Default true; pass false
   * when `findings` may be incomplete (files that failed to parse, a partial scan).
   */
  closeResolved?: boolean;
  config?: PoolguardConfig;
  grouping?: FixGrouping;
  /**
   * Branches of open Poolguard pull requests whose fixes this run puts into other
   * pull requests (the repository's grouping changed): closed even when closeResolved is
   * false, unless someone else pushed to them.
   */
  supersededBranches?: readonly string[];
  /** Default "poolguard/"; branches are `<prefix>fix-<group>`. */
  branchPrefix?: string;
  /** Default 5. */
  maxOpen?: number;
  dryRun?: boolean;
  /** Link to a rule's documentation page. */
  ruleDocsUrl?: (rule: RuleId) => string;
  store?: FixPullRequestStore;
  log?: GitHubLogger;
};

export const defaultBranchPrefix = "poolguard/";
export const defaultMaxOpenFixPullRequests = 5;
const markerPattern = /<!--\s*poolguard:fingerprint=([0-9a-f]+)\s+findings=([0-9a-f]+)\s+head=([0-9a-f]*)\s*-->/;
const trailerPattern = /^Poolguard-Fingerprint: ([0-9a-f]+)$/m;
const stoppedMarker = "<!-- poolguard:stopped -->";
const rebuildMarker = "<!-- poolguard:rebuild -->";
const rebuildTicked = /^\s*[-*] \[[xX]\] .*<!-- poolguard:rebuild -->/m;
const maxBodyChars = 60_000;

export function defaultRuleDocsUrl(rule: RuleId): string {
  return `https://github.com/poolguard/poolguard/blob/main/docs/rules/${rule}.md`;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .replace(/\.+$/, "")
      .slice(0, 60) || "root"
  );
}

/** Group key and branch-name part for a finding. */
export function groupOf(finding: Finding, grouping: FixGrouping): { key: string; name: string } {
  if (grouping === "repository") return { key: "all", name: "all" };
  if (grouping === "rule") return { key: finding.rule, name: finding.rule };
  const dir = posix.dirname(finding.path);
  const key = dir === "." ? "" : dir;
  // Different folders can slug alike (a_b, a-b): a short hash keeps branches apart.
  return { key, name: `${slug(key || "root")}-${sha256(key).slice(0, 6)}` };
}

export function branchFor(prefix: string, groupName: string): string {
  return `${prefix}fix-${groupName}`;
}

function assertSafeBranch(branch: string, prefix: string, protectedBranches: string[]): void {
  // Belt and braces: every ref write goes through here.
  if (!prefix || !branch.startsWith(`${prefix}fix-`) || protectedBranches.includes(branch)) {
    throw new Error(`refusing to write to branch "${branch}": Poolguard only writes to its own ${prefix}fix-* branches`);
  }
}

export function parseMarker(body: string | null | undefined): { fingerprint: string; findings: string; head: string } | null {
  const m = markerPattern.exec(body ?? "");
  return m ? { fingerprint: m[1], findings: m[2], head: m[3] } : null;
}

function firstParagraph(markdown: string | undefined): string {
  if (!markdown) return "";
  return markdown.trim().split(/\n\s*\n/)[0].replace(/\s+/g, " ").trim();
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function titleFor(grouping: FixGrouping, key: string, findings: Finding[]): string {
  if (grouping === "rule") return `Fix ${key}: ${plural(findings.length, "finding")}`;
  if (grouping === "directory") return `Fix ${plural(findings.length, "database session problem")} in ${key || "the repository root"}`;
  return `Fix ${plural(findings.length, "database session and connection problem")}`;
}

export function bodyFor(input: {
  findings: Finding[];
  files: FixedFile[];
  baseBranch: string;
  fingerprint: string;
  findingsFingerprint: string;
  headSha: string;
  ruleDocsUrl: (rule: RuleId) => string;
}): string {
  const rules = new Map(listRules().map((r) => [r.id, r]));
  const lines: string[] = [];
  lines.push(
    `Poolguard found ${plural(input.findings.length, "database session or connection lifecycle problem")} on \`${input.baseBranch}\` and this pull request fixes ${input.findings.length === 1 ? "it" : "them"}. Every change was re-parsed and re-checked before it was proposed.`,
    "",
  );
  const explained = new Set<string>();
  let truncated = 0;
  for (const f of input.findings) {
    const rule = rules.get(f.rule);
    const block: string[] = [];
    block.push(`### \`${f.path}\` line ${f.line}: \`${f.rule}\``, "", f.message, "");
    if (!explained.has(f.rule)) {
      explained.add(f.rule);
      const why = firstParagraph(rule?.docs?.sections["Why is this bad?"]) || rule?.summary || "";
      if (why) block.push(`**Why it leaks:** ${why}`, "");
    }
    block.push(`**What the fix changes:** ${f.fix?.description ?? "see the diff"}`, "", `[Rule documentation](${input.ruleDocsUrl(f.rule)})`, "");
    if (lines.join("\n").length + block.join("\n").length > maxBodyChars) {
      truncated++;
      continue;
    }
    lines.push(...block);
  }
  if (truncated > 0) lines.push(`…and ${plural(truncated, "more finding")} (see the diff).`, "");
  lines.push(`**Files changed:** ${input.files.map((f) => `\`${f.path}\``).join(", ")}`, "");
  lines.push(
    "---",
    "This branch belongs to Poolguard: when the findings change it is rebuilt as one fresh commit on the current base branch. " +
      "If you push a commit to it, Poolguard stops updating it (tick the box below to have it rebuilt anyway). Closing this pull request without merging means these fixes are not proposed again until the findings change.",
    "",
    `- [ ] Rebuild this branch from the current base on the next run, replacing any commits pushed to it ${rebuildMarker}`,
    "",
    `<!-- poolguard:fingerprint=${input.fingerprint} findings=${input.findingsFingerprint} head=${input.headSha} -->`,
  );
  return lines.join("\n");
}

/**
 * The files a group's safe fixes change, computed by the analyzer on a copy of the
 * snapshot (each fix re-parsed and re-analysed; a fix that breaks the file or does
 * not remove its finding is dropped). Returns the findings actually fixed.
 */
export async function computeGroupFixes(input: {
  root: string;
  config: PoolguardConfig;
  grouping: FixGrouping;
  findings: Finding[];
}): Promise<{ files: FixedFile[]; fixed: Finding[] }> {
  const copy = mkdtempSync(join(tmpdir(), "poolguard-fix-"));
  try {
    cpSync(input.root, copy, { recursive: true, verbatimSymlinks: true });
    const rules = new Set(input.findings.map((f) => f.rule));
    const config: PoolguardConfig =
      input.grouping === "rule"
        ? { ...input.config, rules: { ...input.config.rules, ...Object.fromEntries(listRules().filter((r) => !rules.has(r.id)).map((r) => [r.id, "off"])) } }
        : input.config;
    const paths = [...new Set(input.findings.map((f) => f.path))].sort();
    const result = await scan({ root: copy, config, only: paths.map((p) => join(copy, p)), fix: "safe", writeFixes: true, jobs: 1 });
    const remaining = new Set(result.findings.map((f) => f.fingerprint));
    const changed = new Set((result.fixes?.files ?? []).map((f) => f.path));
    const files: FixedFile[] = [];
    for (const path of [...changed].sort()) {
      const before = readFileSync(join(input.root, path), "utf8");
      const after = readFileSync(join(copy, path), "utf8");
      if (before !== after) files.push({ path, before, after });
    }
    const changedPaths = new Set(files.map((f) => f.path));
    const fixed = input.findings.filter((f) => changedPaths.has(f.path) && !remaining.has(f.fingerprint));
    return { files, fixed };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** Unified diffs of a group's files, for --dry-run and logs. */
export function unifiedDiff(files: FixedFile[]): string {
  return files.map((f) => createTwoFilesPatch(`a/${f.path}`, `b/${f.path}`, f.before, f.after, "", "", { context: 3 }).replace(/^=+\n/, "")).join("");
}

type PullSummary = { number: number; title: string; state: string; merged_at: string | null; body: string | null; html_url: string; head: { ref: string; sha: string }; base: { ref: string } };

type Planned = {
  key: string;
  name: string;
  branch: string;
  title: string;
  findings: Finding[];
  files: FixedFile[];
  fingerprint: string;
  findingsFingerprint: string;
};

/**
 * Open, update or leave alone the fix pull requests for a repository's findings.
 * Returns one outcome per group with at least one safe fix.
 */
export async function ensureFixPullRequests(input: EnsureFixPullRequestsInput): Promise<FixPullRequestOutcome[]> {
  const grouping = input.grouping ?? "rule";
  const prefix = input.branchPrefix ?? defaultBranchPrefix;
  const maxOpen = input.maxOpen ?? defaultMaxOpenFixPullRequests;
  const ruleDocsUrl = input.ruleDocsUrl ?? defaultRuleDocsUrl;
  const { client, owner, repo } = input;
  const octokit = client.octokit;
  const log = input.log;
  if (!/^[0-9a-f]{40}$/.test(input.baseSha)) throw new Error(`baseSha must be a commit sha, not "${input.baseSha}"`);
  if (!/^[A-Za-z0-9._/-]+$/.test(prefix) || prefix.startsWith("/") || prefix.includes("..")) throw new Error(`invalid branch prefix "${prefix}"`);

  const config = input.config ?? loadConfig(input.root, { knownRules: listRules().map((r) => r.id) });
  let closeResolved = input.closeResolved ?? true;
  let findings = input.findings;
  if (!findings) {
    const result = await scan({ root: input.root, config, fix: "none" });
    findings = result.findings;
    // A file that did not parse has unknown findings: do not close anything over it.
    if (result.errors.length > 0) closeResolved = false;
  }
  const fixable = findings.filter((f) => !f.suppressed && f.fix?.safety === "safe");

  const groups = new Map<string, { name: string; findings: Finding[] }>();
  for (const finding of fixable) {
    const { key, name } = groupOf(finding, grouping);
    const group = groups.get(key) ?? { name, findings: [] };
    group.findings.push(finding);
    groups.set(key, group);
  }

  const repository = await client.getRepository(owner, repo);
  const defaultBranch = repository.defaultBranch;
  const outcomes: FixPullRequestOutcome[] = [];
  const finish = async (outcome: FixPullRequestOutcome) => {
    outcomes.push(outcome);
    log?.info(`${owner}/${repo} ${outcome.branch}: ${outcome.action}${outcome.reason ? ` (${outcome.reason})` : ""}`);
    if (input.store && !input.dryRun) await input.store.record({ owner, repo, baseBranch: input.baseBranch, outcome });
  };

  const planned: Planned[] = [];
  for (const [key, group] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const branch = branchFor(prefix, group.name);
    assertSafeBranch(branch, prefix, [defaultBranch, input.baseBranch]);
    const { files, fixed } = await computeGroupFixes({ root: input.root, config, grouping, findings: group.findings });
    const findingsFingerprint = sha256(JSON.stringify([...fixed.map((f) => f.fingerprint)].sort()));
    const fingerprint = sha256(JSON.stringify({ grouping, base: input.baseBranch, findings: findingsFingerprint, files: files.map((f) => [f.path, sha256(f.after)]) }));
    const title = titleFor(grouping, key, fixed);
    if (fixed.length === 0 || files.length === 0) {
      await finish({
        group: key,
        branch,
        title,
        body: "",
        action: "skipped-no-fix",
        fingerprint,
        findingsFingerprint,
        findings: group.findings,
        files: [],
        number: null,
        url: null,
        state: null,
        headSha: null,
        reason: "no safe fix survived re-checking",
      });
      continue;
    }
    planned.push({ key, name: group.name, branch, title, findings: fixed, files, fingerprint, findingsFingerprint });
  }
  // Open Poolguard pull requests (for the limit), then each branch's history by head filter,
  // so a repository with thousands of closed pull requests costs a handful of reads.
  const openPulls = (await octokit.paginate(octokit.rest.pulls.list, { owner, repo, state: "open", per_page: 100 })) as unknown as PullSummary[];
  const openOurs = openPulls.filter((p) => p.head.ref.startsWith(`${prefix}fix-`));
  let openCount = openOurs.length;
  // Groups that already have an open pull request go first: they never count against the limit.
  planned.sort((a, b) => Number(openOurs.some((p) => p.head.ref === b.branch)) - Number(openOurs.some((p) => p.head.ref === a.branch)));

  // First close open Poolguard pull requests whose findings are gone (fixed some other way,
  // or the grouping changed), unless someone else has pushed to them; that frees their
  // places under the limit for this run.
  const handled = new Set([...outcomes.map((o) => o.branch), ...planned.map((p) => p.branch)]);
  const superseded = new Set(input.supersededBranches ?? []);
  for (const pull of openOurs) {
    if (!closeResolved && !superseded.has(pull.head.ref)) continue;
    if (handled.has(pull.head.ref) || pull.base.ref !== input.baseBranch) continue;
    const marker = parseMarker(pull.body);
    const head = await readBranchHead(client, owner, repo, pull.head.ref);
    if (!marker || !head || marker.head !== head) continue;
    const reason = superseded.has(pull.head.ref)
      ? "the repository's fix pull request grouping changed; its fixes are now in other Poolguard pull requests"
      : `the findings it fixed are no longer on ${input.baseBranch}`;
    const outcome: FixPullRequestOutcome = {
      group: "",
      branch: pull.head.ref,
      title: pull.title,
      body: pull.body ?? "",
      action: input.dryRun ? "would-close" : "closed-resolved",
      fingerprint: marker.fingerprint,
      findingsFingerprint: marker.findings,
      findings: [],
      files: [],
      number: pull.number,
      url: pull.html_url,
      state: input.dryRun ? "open" : "closed",
      headSha: head,
      reason,
    };
    if (!input.dryRun) {
      await octokit.rest.issues.createComment({ owner, repo, issue_number: pull.number, body: `Closing: ${reason}. Nothing here needs merging.` });
      // Poolguard closed it, not a person: forget the findings so they can be proposed again.
      const body = (pull.body ?? "").replace(markerPattern, `<!-- poolguard:fingerprint=${marker.fingerprint} findings=${"0".repeat(64)} head=${head} -->`);
      await octokit.rest.pulls.update({ owner, repo, pull_number: pull.number, state: "closed", body });
    }
    await finish(outcome);
    if (!input.dryRun) openCount--;
  }

  let baseTree: string | null = null;
  const treeOfBase = async () => {
    baseTree ??= (await octokit.rest.git.getCommit({ owner, repo, commit_sha: input.baseSha })).data.tree.sha;
    return baseTree;
  };

  for (const plan of planned) {
    const history = (await octokit.paginate(octokit.rest.pulls.list, { owner, repo, state: "all", head: `${owner}:${plan.branch}`, per_page: 100 })) as unknown as PullSummary[];
    const pulls = history.filter((p) => p.head.ref === plan.branch).sort((a, b) => b.number - a.number);
    const open = pulls.find((p) => p.state === "open") ?? null;
    const latestClosed = pulls.find((p) => p.state === "closed") ?? null;
    const base: Omit<FixPullRequestOutcome, "action" | "reason" | "body"> = {
      group: plan.key,
      branch: plan.branch,
      title: plan.title,
      fingerprint: plan.fingerprint,
      findingsFingerprint: plan.findingsFingerprint,
      findings: plan.findings,
      files: plan.files,
      number: open?.number ?? null,
      url: open?.html_url ?? null,
      state: open ? "open" : null,
      headSha: null,
    };
    const branchHead = await readBranchHead(client, owner, repo, plan.branch);
    const draftBody = (head: string) =>
      bodyFor({ findings: plan.findings, files: plan.files, baseBranch: input.baseBranch, fingerprint: plan.fingerprint, findingsFingerprint: plan.findingsFingerprint, headSha: head, ruleDocsUrl });

    // Closed without merge and the same findings: the answer was "no".
    if (!open && latestClosed && !latestClosed.merged_at) {
      const marker = parseMarker(latestClosed.body);
      if (marker?.findings === plan.findingsFingerprint) {
        await finish({ ...base, number: latestClosed.number, url: latestClosed.html_url, state: "closed", body: latestClosed.body ?? "", action: "skipped-closed", reason: `pull request #${latestClosed.number} was closed without merging; these findings are not proposed again until they change` });
        continue;
      }
    }

    // Whose branch is it? Ours when its head is the commit we last pushed (the marker),
    // or a single Poolguard commit (our trailer) whose pull request update did not land.
    const marker = parseMarker((open ?? pulls[0])?.body);
    // Someone ticked "Rebuild" in the description of an open Poolguard pull request.
    const rebuild = Boolean(open && marker && rebuildTicked.test(open.body ?? ""));
    let commitFingerprint: string | null = null;
    if (branchHead) {
      const head = (await octokit.rest.git.getCommit({ owner, repo, commit_sha: branchHead })).data;
      const trailer = trailerPattern.exec(head.message)?.[1] ?? null;
      // A commit amended by hand keeps our trailer but not our sha: the marker tells them apart.
      const isOurs = trailer !== null && head.parents.length === 1 && (!marker || marker.head === branchHead || trailer !== marker.fingerprint);
      if (!isOurs && !rebuild) {
        const reason = marker
          ? `someone else pushed commit ${branchHead.slice(0, 12)} to ${plan.branch}; Poolguard no longer updates this branch`
          : `branch ${plan.branch} exists and was not created by Poolguard; it is left alone`;
        if (open && !input.dryRun) await noteStopped(client, owner, repo, open.number, branchHead, reason);
        await finish({ ...base, headSha: branchHead, body: open?.body ?? "", action: open || marker ? "skipped-foreign-commits" : "skipped-foreign-branch", reason });
        continue;
      }
      commitFingerprint = trailer;
    }

    if (!rebuild && open && branchHead && commitFingerprint === plan.fingerprint && marker?.fingerprint === plan.fingerprint && marker.head === branchHead) {
      await finish({ ...base, headSha: branchHead, body: open.body ?? "", action: "unchanged", reason: null });
      continue;
    }

    if (!open && openCount >= maxOpen) {
      await finish({ ...base, body: draftBody(""), action: "skipped-limit", reason: `${openCount} Poolguard pull requests are already open (limit ${maxOpen})` });
      continue;
    }

    if (input.dryRun) {
      await finish({ ...base, body: draftBody(""), action: open ? "would-update" : "would-create", reason: null });
      continue;
    }

    // Build (or rebuild) the branch as one commit on the current base.
    let headSha = branchHead;
    if (rebuild || !(branchHead && commitFingerprint === plan.fingerprint && marker?.head === branchHead) || !open) {
      assertSafeBranch(plan.branch, prefix, [defaultBranch, input.baseBranch]);
      const tree = await octokit.rest.git.createTree({
        owner,
        repo,
        base_tree: await treeOfBase(),
        tree: plan.files.map((f) => ({ path: f.path, mode: "100644" as const, type: "blob" as const, content: f.after })),
      });
      const message = `${plan.title}\n\nFixes found by Poolguard:\n${plan.findings.map((f) => `- ${f.path}:${f.line} ${f.rule}`).join("\n")}\n\nPoolguard-Fingerprint: ${plan.fingerprint}\n`;
      const commit = await octokit.rest.git.createCommit({ owner, repo, message, tree: tree.data.sha, parents: [input.baseSha] });
      headSha = commit.data.sha;
      if (branchHead) await octokit.rest.git.updateRef({ owner, repo, ref: `heads/${plan.branch}`, sha: headSha, force: true });
      else await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${plan.branch}`, sha: headSha });
    }
    const body = draftBody(headSha as string);
    if (open) {
      await octokit.rest.pulls.update({ owner, repo, pull_number: open.number, title: plan.title, body, base: input.baseBranch });
      await finish({ ...base, headSha, body, action: "updated", reason: null });
      continue;
    }
    const created = await octokit.rest.pulls.create({ owner, repo, title: plan.title, head: plan.branch, base: input.baseBranch, body, maintainer_can_modify: true });
    openCount++;
    await finish({ ...base, number: created.data.number, url: created.data.html_url, state: "open", headSha, body, action: "created", reason: null });
  }

  return outcomes;
}

async function readBranchHead(client: GitHubClient, owner: string, repo: string, branch: string): Promise<string | null> {
  try {
    const { data } = await client.octokit.rest.git.getRef({ owner, repo, ref: `heads/${branch}` });
    return data.object.sha;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}

/** Say once, on the pull request, why Poolguard stopped updating it. */
async function noteStopped(client: GitHubClient, owner: string, repo: string, number: number, head: string, reason: string): Promise<void> {
  const octokit = client.octokit;
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: number, per_page: 100 });
  if (comments.some((c) => c.body?.includes(stoppedMarker))) return;
  await octokit.rest.issues.createComment({
    owner,
    repo,
    issue_number: number,
    body: `Poolguard stopped updating this branch: ${reason} (commit ${head.slice(0, 12)}). Poolguard never overwrites other people's commits unless asked: tick "Rebuild this branch" in the description to have it rebuilt on the next run. Otherwise merge or close this pull request as it is; once it is closed, Poolguard proposes new fixes on a fresh pull request when the findings change.\n\n${stoppedMarker}`,
  });
}
