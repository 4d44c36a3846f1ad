import type { Fix, Severity } from "../analyzer/types.ts";
import { recordAuditEvent } from "./audit.ts";
import { db } from "./client.ts";
import { type FindingStatus, parseJson } from "./types.ts";

export type FindingFilter = {
  organizationId?: string;
  repositoryId?: string;
  status?: FindingStatus;
  rule?: string;
  severity?: Severity;
};

function where(filter: FindingFilter) {
  return {
    repositoryId: filter.repositoryId,
    status: filter.status,
    rule: filter.rule,
    severity: filter.severity,
    repository: filter.organizationId ? { organizationId: filter.organizationId } : undefined,
  };
}

const severityRank: Record<string, number> = { error: 0, warning: 1, info: 2 };

export async function listFindings(filter: FindingFilter & { take?: number; cursor?: string } = {}) {
  const rows = await db().finding.findMany({
    where: where(filter),
    include: { repository: { select: { id: true, name: true } } },
    orderBy: [{ path: "asc" }, { line: "asc" }, { id: "asc" }],
    take: filter.take ?? 200,
    ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
  });
  return rows
    .map((f) => ({ ...f, status: f.status as FindingStatus, severity: f.severity as Severity, fix: parseJson<Fix | null>(f.fix, null) }))
    .sort((a, b) => (severityRank[a.severity] ?? 3) - (severityRank[b.severity] ?? 3));
}

export async function countFindings(filter: FindingFilter = {}) {
  return db().finding.count({ where: where(filter) });
}

export async function getFinding(id: string) {
  const f = await db().finding.findUnique({ where: { id }, include: { repository: true } });
  return f ? { ...f, status: f.status as FindingStatus, severity: f.severity as Severity, fix: parseJson<Fix | null>(f.fix, null) } : null;
}

/** Triage a finding (ignore with a reason, reopen) and record who did it. */
export async function setFindingStatus(id: string, input: { status: FindingStatus; reason?: string | null; actorUserId: string }) {
  if (input.status === "ignored" && !input.reason?.trim()) throw new Error("ignoring a finding needs a reason");
  const finding = await db().finding.update({
    where: { id },
    data: {
      status: input.status,
      ignoredReason: input.status === "ignored" ? input.reason?.trim() : null,
      ignoredById: input.status === "ignored" ? input.actorUserId : null,
    },
    include: { repository: true },
  });
  await recordAuditEvent({
    organizationId: finding.repository.organizationId,
    actorUserId: input.actorUserId,
    action: `finding.${input.status}`,
    targetType: "finding",
    targetId: id,
    data: { reason: input.reason ?? null, rule: finding.rule, path: finding.path },
  });
  return finding;
}

/**
 * One page of findings for the API: ordered by id so a cursor (the last id of the
 * previous page) is stable while scans add or close findings. `path` matches a file or
 * a folder prefix.
 */
export async function listFindingsPage(filter: FindingFilter & { path?: string; take: number; cursor?: string }) {
  const rows = await db().finding.findMany({
    where: {
      ...where(filter),
      ...(filter.path ? { OR: [{ path: filter.path }, { path: { startsWith: `${filter.path.replace(/\/$/, "")}/` } }] } : {}),
      ...(filter.cursor ? { id: { gt: filter.cursor } } : {}),
    },
    orderBy: { id: "asc" },
    take: filter.take + 1,
  });
  const page = rows.slice(0, filter.take).map((f) => ({ ...f, status: f.status as FindingStatus, severity: f.severity as Severity, fix: parseJson<Fix | null>(f.fix, null) }));
  return { items: page, nextCursor: rows.length > filter.take ? (page.at(-1)?.id ?? null) : null };
}
