import { db } from "./client.ts";

// GitHub App installations as the dashboard sees them when an admin connects a
// repository. An installation belongs to at most one organization: the first one that
// connects one of its repositories claims it, and other organizations no longer see it.

/** The organization an installation belongs to (null: unclaimed or not recorded yet). */
export async function installationOwner(githubId: number): Promise<string | null> {
  const row = await db().installation.findUnique({ where: { githubId: BigInt(githubId) }, select: { organizationId: true } });
  return row?.organizationId ?? null;
}

/**
 * Record an installation for an organization. An unclaimed installation is claimed;
 * one claimed by another organization is refused (returns null).
 */
export async function claimInstallation(input: { githubId: number; accountLogin: string; accountType: string; organizationId: string }) {
  const githubId = BigInt(input.githubId);
  const existing = await db().installation.findUnique({ where: { githubId } });
  if (existing?.organizationId && existing.organizationId !== input.organizationId) return null;
  if (existing) {
    return db().installation.update({
      where: { id: existing.id },
      data: { accountLogin: input.accountLogin, accountType: input.accountType, organizationId: input.organizationId },
    });
  }
  return db().installation.create({ data: { githubId, accountLogin: input.accountLogin, accountType: input.accountType, organizationId: input.organizationId } });
}

/** GitHub repository ids already connected in an organization. */
export async function connectedGitHubIds(organizationId: string): Promise<Set<number>> {
  const rows = await db().repository.findMany({ where: { organizationId, provider: "github", githubId: { not: null } }, select: { githubId: true } });
  return new Set(rows.map((r) => Number(r.githubId)));
}

/** The installation row of a repository (for App auth), or null. */
export async function repositoryInstallation(repositoryId: string): Promise<{ githubId: number } | null> {
  const row = await db().repository.findUnique({ where: { id: repositoryId }, select: { installation: { select: { githubId: true } } } });
  return row?.installation ? { githubId: Number(row.installation.githubId) } : null;
}

/** Fingerprints of a repository's findings picked by id (others' ids are ignored). */
export async function findingFingerprints(repositoryId: string, ids: readonly string[]): Promise<{ id: string; fingerprint: string }[]> {
  return db().finding.findMany({ where: { id: { in: [...ids] }, repositoryId }, select: { id: true, fingerprint: true } });
}

/** Fingerprints of the still-open findings among these ids. */
export async function openFindingFingerprints(ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db().finding.findMany({ where: { id: { in: [...ids] }, status: "open" }, select: { fingerprint: true } });
  return rows.map((r) => r.fingerprint);
}

/** The organization's findings among these ids, with what decides whether a fix pull request can be opened. */
export async function findingsForFixPullRequests(organizationId: string, ids: readonly string[]) {
  const rows = await db().finding.findMany({
    where: { id: { in: [...ids] }, repository: { organizationId } },
    select: { id: true, repositoryId: true, status: true, fixSafety: true, repository: { select: { provider: true } } },
  });
  return rows.map((r) => ({ id: r.id, repositoryId: r.repositoryId, status: r.status, fixSafety: r.fixSafety, provider: r.repository.provider }));
}
