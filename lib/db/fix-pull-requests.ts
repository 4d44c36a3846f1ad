import { db } from "./client.ts";
import type { FixPullRequestState } from "./types.ts";

/** Create or update the fix pull request record for a branch (unique per repository). */
export async function upsertFixPullRequest(input: {
  repositoryId: string;
  branch: string;
  title: string;
  baseBranch: string;
  bodyFingerprint: string;
  number?: number | null;
  state?: FixPullRequestState;
  headSha?: string | null;
  findingIds: string[];
  /** Findings named by fingerprint (resolved to this repository's Finding rows; unknown ones are skipped). */
  findingFingerprints?: string[];
  findingsFingerprint?: string | null;
  groupKey?: string | null;
  url?: string | null;
  /** Why Poolguard stopped updating the branch; null clears it. */
  stoppedReason?: string | null;
}) {
  const data = {
    title: input.title,
    baseBranch: input.baseBranch,
    bodyFingerprint: input.bodyFingerprint,
    number: input.number ?? null,
    state: input.state ?? "open",
    headSha: input.headSha ?? null,
    closedAt: input.state && input.state !== "open" ? new Date() : null,
    ...(input.findingsFingerprint !== undefined ? { findingsFingerprint: input.findingsFingerprint } : {}),
    ...(input.groupKey !== undefined ? { groupKey: input.groupKey } : {}),
    ...(input.url !== undefined ? { url: input.url } : {}),
    ...(input.stoppedReason !== undefined ? { stoppedReason: input.stoppedReason } : {}),
  };
  return db().$transaction(async (tx) => {
    const pr = await tx.fixPullRequest.upsert({
      where: { repositoryId_branch: { repositoryId: input.repositoryId, branch: input.branch } },
      create: { repositoryId: input.repositoryId, branch: input.branch, ...data },
      update: data,
    });
    const ids = new Set(input.findingIds);
    if (input.findingFingerprints && input.findingFingerprints.length > 0) {
      const rows = await tx.finding.findMany({ where: { repositoryId: input.repositoryId, fingerprint: { in: [...new Set(input.findingFingerprints)] } }, select: { id: true } });
      for (const row of rows) ids.add(row.id);
    }
    await tx.fixPullRequestFinding.deleteMany({ where: { fixPullRequestId: pr.id } });
    for (const findingId of ids) {
      await tx.fixPullRequestFinding.create({ data: { fixPullRequestId: pr.id, findingId } });
    }
    return pr;
  });
}

export async function getFixPullRequest(repositoryId: string, branch: string) {
  const row = await db().fixPullRequest.findUnique({
    where: { repositoryId_branch: { repositoryId, branch } },
    include: { findings: { select: { findingId: true } } },
  });
  if (!row) return null;
  const { findings, ...pr } = row;
  return { ...pr, state: pr.state as FixPullRequestState, findingIds: findings.map((f) => f.findingId) };
}

export async function listFixPullRequests(repositoryId: string) {
  const rows = await db().fixPullRequest.findMany({
    where: { repositoryId },
    orderBy: { createdAt: "desc" },
    include: { findings: { select: { findingId: true } } },
  });
  return rows.map(({ findings, ...pr }) => ({ ...pr, state: pr.state as FixPullRequestState, findingIds: findings.map((f) => f.findingId) }));
}
