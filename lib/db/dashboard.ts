import { db } from "./client.ts";
import { parseJson, type ScanStatus } from "./types.ts";

// Read models for the dashboard's repository screens: trends come from the counts each
// scan stores when it completes, so charts never count findings row by row.

export type TrendPoint = { scanId: string; at: Date; total: number; byRule: Record<string, number>; bySeverity: Record<string, number> };

/** Open-finding counts after each of the last `take` completed scans, oldest first, per repository. */
export async function repositoryTrends(repositoryIds: readonly string[], take = 20): Promise<Map<string, TrendPoint[]>> {
  const out = new Map<string, TrendPoint[]>();
  for (const repositoryId of repositoryIds) {
    const scans = await db().scan.findMany({
      where: { repositoryId, status: "succeeded", pullRequestNumber: null },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take,
      select: { id: true, createdAt: true, findingsCount: true, countsByRule: true, countsBySeverity: true },
    });
    out.set(
      repositoryId,
      scans.reverse().map((s) => ({
        scanId: s.id,
        at: s.createdAt,
        total: s.findingsCount,
        byRule: parseJson<Record<string, number>>(s.countsByRule, {}),
        bySeverity: parseJson<Record<string, number>>(s.countsBySeverity, {}),
      })),
    );
  }
  return out;
}

/** The running or queued scan of a repository, for live progress. */
export async function activeScan(repositoryId: string) {
  const scan = await db().scan.findFirst({
    where: { repositoryId, status: { in: ["queued", "running"] } },
    orderBy: { createdAt: "desc" },
    select: { id: true, status: true, filesDone: true, filesTotal: true, createdAt: true, startedAt: true },
  });
  return scan ? { ...scan, status: scan.status as ScanStatus } : null;
}

/** One scan's progress, scoped to an organization (null when not found there). */
export async function scanProgress(scanId: string, organizationId: string) {
  const scan = await db().scan.findFirst({
    where: { id: scanId, repository: { organizationId } },
    select: { id: true, status: true, filesDone: true, filesTotal: true, findingsCount: true, error: true },
  });
  return scan ? { ...scan, status: scan.status as ScanStatus } : null;
}
