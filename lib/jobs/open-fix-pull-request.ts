import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { listRules, type RuleId, scan } from "../analyzer/index.ts";
import { parseConfig } from "../analyzer/config/load-config.ts";
import { findingFingerprints, openFindingFingerprints } from "../db/github-connections.ts";
import { getRepository, getRepositorySettings, listFixPullRequests, recordAuditEvent } from "../db/index.ts";
import { databaseFixPullRequestStore } from "../github/db-store.ts";
import {
  downloadSnapshotToDirectory,
  ensureFixPullRequests,
  type FixPullRequestOutcome,
  GitHubConfigError,
  githubAuthFromEnv,
  githubClientFromEnv,
  branchFor,
  groupOf,
  isFixGrouping,
} from "../github/index.ts";
import type { Logger } from "./context.ts";
import { transportKind } from "./policy.ts";

// Job: open (or update) fix pull requests for findings picked in the dashboard. It
// resolves the repository's head on GitHub, downloads that commit, re-scans it, and hands
// the picked findings (as they are at that commit) to ensureFixPullRequests with the
// database store. Only findings whose fix is safe go into pull requests.
//
// Each finding gets an audit event when asked for ("finding.fix-pr-requested") and one
// when the job ends ("finding.fix-pr-opened" or "finding.fix-pr-failed"): the finding page
// shows a pending state in between.

/** The job name on the BullMQ queue (lib/jobs/bullmq.ts hands it to `handle`). */
export const name = "open-fix-pull-request";

export const payloadSchema = z.object({
  repositoryId: z.string().min(1),
  findingIds: z.array(z.string().min(1)).min(1).max(500),
  actorUserId: z.string().nullable().optional(),
});
export type OpenFixPullRequestPayload = z.infer<typeof payloadSchema>;

export type OpenFixPullRequestResult =
  | { kind: "done"; outcomes: { branch: string; action: FixPullRequestOutcome["action"]; number: number | null; url: string | null }[] }
  | { kind: "failed"; error: string };

/** A client acting for this repository: the App installation covering it, or the token. */
async function clientFor(owner: string, repo: string) {
  const client = githubClientFromEnv();
  if (githubAuthFromEnv().type !== "app") return client;
  return client.forInstallation(await client.installationFor(owner, repo));
}

async function finish(organizationId: string, actorUserId: string | null, findingIds: string[], action: "finding.fix-pr-opened" | "finding.fix-pr-failed", data: Record<string, unknown>) {
  for (const id of findingIds) await recordAuditEvent({ organizationId, actorUserId, action, targetType: "finding", targetId: id, data });
}

export async function handle(raw: unknown, ctx: { log: Logger }): Promise<OpenFixPullRequestResult> {
  const payload = payloadSchema.parse(raw);
  const repository = await getRepository(payload.repositoryId);
  if (!repository) return { kind: "failed", error: "the repository is gone" };
  const actor = payload.actorUserId ?? null;
  const rows = await findingFingerprints(repository.id, payload.findingIds);
  const fail = async (error: string): Promise<OpenFixPullRequestResult> => {
    await finish(repository.organizationId, actor, rows.map((r) => r.id), "finding.fix-pr-failed", { error });
    ctx.log.error("fix pull request failed", { repositoryId: repository.id, error });
    return { kind: "failed", error };
  };
  if (rows.length === 0) return fail("none of these findings belong to this repository");
  if (repository.provider !== "github") return fail("fix pull requests are opened on GitHub repositories only");
  const [owner, repo] = repository.name.split("/");
  const dir = mkdtempSync(join(tmpdir(), "poolguard-fix-"));
  try {
    const client = await clientFor(owner, repo);
    const head = await client.resolveHead(owner, repo, repository.defaultBranch);
    const root = join(dir, "snapshot");
    await downloadSnapshotToDirectory(client, { owner, repo, sha: head.sha, target: root });
    const settings = await getRepositorySettings(repository.id);
    const knownRules = listRules().map((r) => r.id as RuleId);
    const config = settings.configYaml?.trim() ? parseConfig(settings.configYaml, "poolguard.yml", knownRules) : undefined;
    const result = await scan({ root, ...(config ? { config } : {}), fix: "none" });
    // The picked findings, and those already in open fix pull requests: a pull request
    // rebuilt for a new pick keeps what it already fixed.
    const wanted = new Set(rows.map((r) => r.fingerprint));
    const openPulls = (await listFixPullRequests(repository.id)).filter((pr) => pr.state === "open");
    for (const fingerprint of await openFindingFingerprints(openPulls.flatMap((pr) => pr.findingIds))) wanted.add(fingerprint);
    const picked = result.findings.filter((f) => wanted.has(f.fingerprint));
    const pickedSafe = picked.filter((f) => !f.suppressed && f.fix?.safety === "safe");
    if (pickedSafe.length === 0) {
      return fail(picked.length === 0 ? `the findings are no longer at ${head.sha.slice(0, 7)} on ${head.branch}` : "none of these findings has a safe fix");
    }
    // The repository's setting (per rule, per folder, or one pull request). An open pull
    // request on a branch this grouping does not make, holding some of these findings, was
    // made under another grouping: its fixes move to this grouping's pull requests.
    const grouping = isFixGrouping(settings.fixPrGrouping) ? settings.fixPrGrouping : "rule";
    const branches = new Set(pickedSafe.map((f) => branchFor(settings.branchPrefix, groupOf(f, grouping).name)));
    const pickedFingerprints = new Set(pickedSafe.map((f) => f.fingerprint));
    const supersededBranches: string[] = [];
    for (const pull of openPulls) {
      if (branches.has(pull.branch)) continue;
      if ((await openFindingFingerprints(pull.findingIds)).some((fingerprint) => pickedFingerprints.has(fingerprint))) supersededBranches.push(pull.branch);
    }
    const outcomes = await ensureFixPullRequests({
      client,
      owner,
      repo,
      baseBranch: head.branch,
      baseSha: head.sha,
      root,
      findings: picked,
      closeResolved: false,
      ...(config ? { config } : {}),
      grouping,
      supersededBranches,
      branchPrefix: settings.branchPrefix,
      maxOpen: settings.maxOpenFixPrs,
      store: databaseFixPullRequestStore(repository.id),
    });
    const summary = outcomes.map((o) => ({ branch: o.branch, action: o.action, number: o.number, url: o.url }));
    const withPull = outcomes.filter((o) => o.number !== null);
    if (withPull.length === 0) return fail(outcomes.map((o) => o.reason).filter(Boolean).join("; ") || "no pull request could be opened");
    await finish(repository.organizationId, actor, rows.map((r) => r.id), "finding.fix-pr-opened", { pullRequests: withPull.map((o) => ({ number: o.number, url: o.url })) });
    ctx.log.info("fix pull requests ensured", { repositoryId: repository.id, outcomes: summary });
    return { kind: "done", outcomes: summary };
  } catch (error) {
    const message = error instanceof GitHubConfigError ? `GitHub is not configured on this server: ${error.message}` : (error as Error).message;
    return fail(message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Ask for fix pull requests for some findings of one repository. With BullMQ (REDIS_URL)
 * a job goes on the queue for the workers; with the database transport the job runs in
 * this process right away, in the background. Returns how many findings were asked for.
 */
export async function requestFixPullRequests(input: { organizationId: string; repositoryId: string; findingIds: string[]; actorUserId: string | null; log: Logger }): Promise<number> {
  const payload = payloadSchema.parse({ repositoryId: input.repositoryId, findingIds: input.findingIds, actorUserId: input.actorUserId });
  for (const id of payload.findingIds) {
    await recordAuditEvent({ organizationId: input.organizationId, actorUserId: input.actorUserId, action: "finding.fix-pr-requested", targetType: "finding", targetId: id });
  }
  if (transportKind() === "bullmq") {
    const { bullQueue } = await import("./bullmq.ts");
    await bullQueue().add(name, payload, { attempts: 1 });
  } else {
    void handle(payload, { log: input.log }).catch((error) => input.log.error("fix pull request job crashed", { error: (error as Error).message }));
  }
  return payload.findingIds.length;
}
