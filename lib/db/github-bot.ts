import { db } from "./client.ts";
import type { StoredFinding } from "./types.ts";

// What the GitHub PR bot keeps in sync from webhooks: installations, the organizations
// they belong to, their repositories, and the state of Poolguard's fix pull requests.

export type InstallationInput = { githubId: number; accountLogin: string; accountType: string; permissions?: Record<string, string>; suspended?: boolean };
export type InstalledRepository = { githubId: number; fullName: string; private: boolean; defaultBranch?: string };

function slugFor(login: string): string {
  return login.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
}

/** Create or update an installation and the organization it belongs to (by account login). */
export async function syncInstallation(input: InstallationInput) {
  const slug = slugFor(input.accountLogin);
  const organization = await db().organization.upsert({ where: { slug }, create: { slug, name: input.accountLogin }, update: {} });
  const data = {
    accountLogin: input.accountLogin,
    accountType: input.accountType,
    permissions: JSON.stringify(input.permissions ?? {}),
    suspendedAt: input.suspended ? new Date() : null,
    organizationId: organization.id,
  };
  const installation = await db().installation.upsert({ where: { githubId: BigInt(input.githubId) }, create: { githubId: BigInt(input.githubId), ...data }, update: data });
  return { installation, organization };
}

/** Add (or refresh) repositories of an installation; detach the removed ones (their history stays). */
export async function syncInstallationRepositories(installationGithubId: number, added: InstalledRepository[], removedGithubIds: number[] = []) {
  const installation = await db().installation.findUnique({ where: { githubId: BigInt(installationGithubId) } });
  if (!installation?.organizationId) throw new Error(`installation ${installationGithubId} is not known`);
  const organizationId = installation.organizationId;
  for (const repo of added) {
    const data = { githubId: BigInt(repo.githubId), installationId: installation.id, private: repo.private, archived: false, ...(repo.defaultBranch ? { defaultBranch: repo.defaultBranch } : {}) };
    await db().repository.upsert({
      where: { organizationId_name: { organizationId, name: repo.fullName } },
      create: { organizationId, provider: "github", name: repo.fullName, ...data, settings: { create: {} } },
      update: data,
    });
  }
  if (removedGithubIds.length > 0) {
    await db().repository.updateMany({ where: { installationId: installation.id, githubId: { in: removedGithubIds.map((id) => BigInt(id)) } }, data: { installationId: null } });
  }
}

/** The installation was deleted: its repositories stay (with their findings), detached. */
export async function removeInstallation(githubId: number) {
  await db().installation.deleteMany({ where: { githubId: BigInt(githubId) } });
}

export async function setInstallationSuspended(githubId: number, suspended: boolean) {
  await db().installation.updateMany({ where: { githubId: BigInt(githubId) }, data: { suspendedAt: suspended ? new Date() : null } });
}

/** A GitHub repository known to Poolguard, by GitHub id or full name, with its settings. */
export async function findGitHubRepository(input: { githubId?: number | null; fullName: string }) {
  const include = { settings: true } as const;
  if (input.githubId != null) {
    const byId = await db().repository.findFirst({ where: { provider: "github", githubId: BigInt(input.githubId) }, include, orderBy: { createdAt: "asc" } });
    if (byId) return byId;
  }
  return db().repository.findFirst({ where: { provider: "github", name: input.fullName }, include, orderBy: { createdAt: "asc" } });
}

export async function listInstallationRepositoriesByGithubId(githubId: number) {
  const installation = await db().installation.findUnique({ where: { githubId: BigInt(githubId) }, include: { repositories: true, organization: true } });
  return installation;
}

/**
 * A Poolguard fix pull request was closed (merged or not). Merged: its findings are
 * marked fixed (the next scan of the default branch confirms it). Closed unmerged: the
 * record says so, which stops Poolguard proposing those findings again until they change.
 */
export async function recordFixPullRequestClosed(input: { repositoryId: string; branch: string; merged: boolean; number?: number | null }) {
  const pr = await db().fixPullRequest.findUnique({ where: { repositoryId_branch: { repositoryId: input.repositoryId, branch: input.branch } }, include: { findings: true } });
  if (!pr) return null;
  if (input.number != null && pr.number != null && pr.number !== input.number) return null;
  const state = input.merged ? "merged" : "closed";
  return db().$transaction(async (tx) => {
    const updated = await tx.fixPullRequest.update({ where: { id: pr.id }, data: { state, closedAt: new Date() } });
    let findingsFixed = 0;
    if (input.merged && pr.findings.length > 0) {
      const result = await tx.finding.updateMany({ where: { id: { in: pr.findings.map((f) => f.findingId) }, status: "open" }, data: { status: "fixed" } });
      findingsFixed = result.count;
    }
    return { ...updated, findingsFixed };
  });
}

/**
 * The findings a repository had at `commitSha`, when its latest successful scan was a
 * complete scan of exactly that commit: the findings that scan saw are those whose
 * lastSeenScanId is that scan (a later scan would have moved them on, so only the
 * latest one can answer). Null when no such scan is stored: CLI uploads may cover only
 * some paths, and a scan that could not analyse some files does not know their findings.
 */
export async function findingsAtCommit(repositoryId: string, commitSha: string): Promise<{ scanId: string; findings: StoredFinding[] } | null> {
  const scan = await db().scan.findFirst({
    where: { repositoryId, status: "succeeded", pullRequestNumber: null },
    orderBy: [{ finishedAt: "desc" }, { id: "desc" }],
  });
  if (!scan || scan.commitSha !== commitSha || scan.trigger === "cli" || scan.error) return null;
  const rows = await db().finding.findMany({
    where: { repositoryId, lastSeenScanId: scan.id },
    select: { fingerprint: true, rule: true, severity: true, message: true, path: true, line: true, column: true, endLine: true, endColumn: true, status: true, ignoredReason: true },
  });
  return {
    scanId: scan.id,
    findings: rows.map(({ status, ignoredReason, ...f }) => ({ ...f, suppressed: status === "ignored" && ignoredReason === "suppressed in source" })),
  };
}
