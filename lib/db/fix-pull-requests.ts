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
}) {
  const data = {
    title: input.title,
    baseBranch: input.baseBranch,
    bodyFingerprint: input.bodyFingerprint,
    number: input.number ?? null,
    state: input.state ?? "open",
    headSha: input.headSha ?? null,
    closedAt: input.state && input.state !== "open" ? new Date() : null,
  };
  return db().$transaction(async (tx) => {
    const pr = await tx.fixPullRequest.upsert({
      where: { repositoryId_branch: { repositoryId: input.repositoryId, branch: input.branch } },
      create: { repositoryId: input.repositoryId, branch: input.branch, ...data },
      update: data,
    });
    await tx.fixPullRequestFinding.deleteMany({ where: { fixPullRequestId: pr.id } });
    for (const findingId of new Set(input.findingIds)) {
      await tx.fixPullRequestFinding.create({ data: { fixPullRequestId: pr.id, findingId } });
    }
    return pr;
  });
}

export async function listFixPullRequests(repositoryId: string) {
  const rows = await db().fixPullRequest.findMany({
    where: { repositoryId },
    orderBy: { createdAt: "desc" },
    include: { findings: { select: { findingId: true } } },
  });
  return rows.map(({ findings, ...pr }) => ({ ...pr, state: pr.state as FixPullRequestState, findingIds: findings.map((f) => f.findingId) }));
}
