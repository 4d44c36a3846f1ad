import { db } from "./client.ts";
import type { RepositoryProvider, ScanStatus } from "./types.ts";

export type SeverityCounts = { error: number; warning: number; info: number };

export async function createRepository(input: {
  organizationId: string;
  provider: RepositoryProvider;
  name: string;
  localPath?: string | null;
  cloneUrl?: string | null;
  githubId?: number | bigint | null;
  installationId?: string | null;
  defaultBranch?: string;
  private?: boolean;
}) {
  return db().repository.create({
    data: {
      organizationId: input.organizationId,
      provider: input.provider,
      name: input.name,
      localPath: input.localPath ?? null,
      cloneUrl: input.cloneUrl ?? null,
      githubId: input.githubId == null ? null : BigInt(input.githubId),
      installationId: input.installationId ?? null,
      defaultBranch: input.defaultBranch ?? "main",
      private: input.private ?? false,
      settings: { create: {} },
    },
  });
}

export async function getRepository(id: string) {
  return db().repository.findUnique({ where: { id } });
}

export async function findRepositoryByName(organizationId: string, name: string) {
  return db().repository.findUnique({ where: { organizationId_name: { organizationId, name } } });
}

export async function listRepositories(organizationId: string) {
  const repositories = await db().repository.findMany({
    where: { organizationId, archived: false },
    orderBy: { name: "asc" },
    include: { scans: { orderBy: { createdAt: "desc" }, take: 1 } },
  });
  const counts = await db().finding.groupBy({
    by: ["repositoryId", "severity"],
    where: { status: "open", repositoryId: { in: repositories.map((r) => r.id) } },
    _count: { _all: true },
  });
  return repositories.map(({ scans, ...repository }) => {
    const openFindings: SeverityCounts = { error: 0, warning: 0, info: 0 };
    for (const row of counts) {
      if (row.repositoryId === repository.id && row.severity in openFindings) {
        openFindings[row.severity as keyof SeverityCounts] = row._count._all;
      }
    }
    const latest = scans[0];
    return {
      ...repository,
      openFindings,
      latestScan: latest
        ? { id: latest.id, status: latest.status as ScanStatus, createdAt: latest.createdAt, finishedAt: latest.finishedAt, findingsCount: latest.findingsCount }
        : null,
    };
  });
}

export async function getRepositorySettings(repositoryId: string) {
  return db().repositorySettings.upsert({ where: { repositoryId }, create: { repositoryId }, update: {} });
}

export async function updateRepositorySettings(
  repositoryId: string,
  patch: Partial<{
    scheduleCron: string | null;
    scheduleEnabled: boolean;
    configYaml: string | null;
    fixPrsEnabled: boolean;
    maxOpenFixPrs: number;
    branchPrefix: string;
    failOn: string;
    fixPrGrouping: "rule" | "directory" | "repository";
  }>,
) {
  return db().repositorySettings.upsert({ where: { repositoryId }, create: { repositoryId, ...patch }, update: patch });
}

