// `poolguard pr`: scan a GitHub repository's base branch and open or update the fix
// pull requests, without the web app (cron, CI). Token from GITHUB_TOKEN.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { apiUrlFromEnv, createGitHubClient } from "../github/client.ts";
import { type FixGrouping, type FixPullRequestOutcome, ensureFixPullRequests, unifiedDiff } from "../github/fix-pull-requests.ts";
import { redact } from "../github/redact.ts";
import { downloadSnapshotToDirectory } from "../github/snapshot.ts";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void; env: Record<string, string | undefined> };

export const prUsage = `poolguard pr --repo OWNER/NAME [--api-url URL] [--base BRANCH] [--dry-run]
               [--group rule|directory|repository] [--branch-prefix PREFIX] [--max-open N]`;

function usageError(io: Io, message: string): 2 {
  io.stderr(`poolguard pr: ${message}\n\nUsage:\n  ${prUsage}\n`);
  return 2;
}

function describe(outcome: FixPullRequestOutcome): string {
  const where = outcome.number ? ` #${outcome.number}${outcome.url ? ` ${outcome.url}` : ""}` : "";
  const what: Record<FixPullRequestOutcome["action"], string> = {
    created: "opened",
    updated: "updated",
    unchanged: "up to date",
    "would-create": "would open",
    "would-update": "would update",
    "skipped-closed": "skipped",
    "skipped-foreign-commits": "skipped",
    "skipped-foreign-branch": "skipped",
    "skipped-limit": "skipped",
    "skipped-no-fix": "skipped",
    "closed-resolved": "closed",
    "would-close": "would close",
  };
  return `${what[outcome.action]}${where}: ${outcome.branch} "${outcome.title}" (${outcome.findings.length} findings)${outcome.reason ? `\n  ${outcome.reason}` : ""}\n`;
}

/** Exit status: 0 done (also when nothing needed doing), 1 GitHub or snapshot failure, 2 usage error. */
export async function runPrCommand(args: string[], io: Io): Promise<0 | 1 | 2> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        repo: { type: "string" },
        "api-url": { type: "string" },
        base: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        group: { type: "string", default: "rule" },
        "branch-prefix": { type: "string" },
        "max-open": { type: "string" },
      },
    }));
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  const repoArg = String(values.repo ?? "");
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(repoArg);
  if (!m) return usageError(io, "--repo OWNER/NAME is required");
  const [, owner, repo] = m;
  const grouping = values.group as FixGrouping;
  if (!["rule", "directory", "repository"].includes(grouping)) return usageError(io, `--group must be rule, directory or repository (got "${grouping}")`);
  const maxOpen = values["max-open"] === undefined ? undefined : Number(values["max-open"]);
  if (maxOpen !== undefined && (!Number.isInteger(maxOpen) || maxOpen < 0)) return usageError(io, "--max-open must be a whole number");
  const token = io.env.GITHUB_TOKEN?.trim();
  if (!token) return usageError(io, "set GITHUB_TOKEN to a token that can push branches and open pull requests (contents and pull requests: write)");
  const apiUrl = (typeof values["api-url"] === "string" ? values["api-url"] : apiUrlFromEnv(io.env)).replace(/\/+$/, "");
  const dryRun = values["dry-run"] === true;
  const pause = io.env.POOLGUARD_GITHUB_WRITE_PAUSE_MS;

  const client = createGitHubClient({
    auth: { type: "token", token },
    apiUrl,
    writePauseMs: pause !== undefined && /^\d+$/.test(pause) ? Number(pause) : undefined,
    log: { debug: () => {}, info: () => {}, warn: (s) => io.stderr(`poolguard pr: ${s}\n`), error: (s) => io.stderr(`poolguard pr: ${s}\n`) },
  });
  const workdir = mkdtempSync(join(tmpdir(), "poolguard-pr-"));
  try {
    const repository = await client.getRepository(owner, repo);
    const head = await client.resolveHead(owner, repo, typeof values.base === "string" ? values.base : repository.defaultBranch);
    io.stderr(`poolguard pr: ${owner}/${repo} ${head.branch} at ${head.sha.slice(0, 12)}\n`);
    const root = join(workdir, "snapshot");
    const snapshot = await downloadSnapshotToDirectory(client, { owner, repo, sha: head.sha, target: root });
    if (snapshot.skipped.length > 0) io.stderr(`poolguard pr: left out ${snapshot.skipped.length} links from the snapshot\n`);
    const outcomes = await ensureFixPullRequests({
      client,
      owner,
      repo,
      baseBranch: head.branch,
      baseSha: head.sha,
      root,
      grouping,
      branchPrefix: typeof values["branch-prefix"] === "string" ? values["branch-prefix"] : undefined,
      maxOpen,
      dryRun,
    });
    if (outcomes.length === 0) io.stdout("No findings with a safe fix: no pull request needed.\n");
    for (const outcome of outcomes) {
      io.stdout(describe(outcome));
      if (dryRun && (outcome.action === "would-create" || outcome.action === "would-update")) {
        io.stdout(`\n--- branch ${outcome.branch}\n--- title  ${outcome.title}\n\n${unifiedDiff(outcome.files)}\n`);
      }
    }
    io.stderr(`poolguard pr: ${client.writeCount()} write calls to GitHub${dryRun ? " (dry run)" : ""}\n`);
    return 0;
  } catch (error) {
    const status = (error as { status?: number }).status;
    io.stderr(`poolguard pr: ${redact((error as Error).message)}${status ? ` (HTTP ${status})` : ""}\n`);
    return 1;
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
}
