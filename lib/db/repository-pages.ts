import { db } from "./client.ts";
import type { ScanStatus } from "./types.ts";

// Organization-scoped repository reads for the API: a repository of another
// organization is indistinguishable from one that does not exist.

export async function getRepositoryInOrganization(organizationId: string, id: string) {
  return db().repository.findFirst({ where: { id, organizationId }, include: { settings: true } });
}

export async function listRepositoriesPage(organizationId: string, { take, cursor }: { take: number; cursor?: string }) {
  const rows = await db().repository.findMany({
    where: { organizationId, ...(cursor ? { id: { gt: cursor } } : {}) },
    orderBy: { id: "asc" },
    take: take + 1,
    include: { settings: true, scans: { orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: 1 } },
  });
  const items = rows.slice(0, take).map(({ scans, ...repository }) => ({
    ...repository,
    latestScan: scans[0] ? { id: scans[0].id, status: scans[0].status as ScanStatus, createdAt: scans[0].createdAt } : null,
  }));
  return { items, nextCursor: rows.length > take ? (items.at(-1)?.id ?? null) : null };
}

export async function getScanInOrganization(organizationId: string, id: string) {
  return db().scan.findFirst({ where: { id, repository: { organizationId } } });
}
