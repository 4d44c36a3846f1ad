import type { Fix, Severity } from "../analyzer/types.ts";
import { recordAuditEvent } from "./audit.ts";
import { db } from "./client.ts";
import { type FindingStatus, parseJson } from "./types.ts";

// What the dashboard's findings table and finding page read and write. Every query is
// scoped to one organization: a finding of another organization is "not found", never
// "forbidden", so its existence does not leak.

export type IgnoreReason = "false-positive" | "wont-fix" | "test-code";
export const ignoreReasons: readonly IgnoreReason[] = ["false-positive", "wont-fix", "test-code"];

export type FindingSort = "severity" | "path" | "newest" | "rule";
export const findingSorts: readonly FindingSort[] = ["severity", "path", "newest", "rule"];

export type FindingSearch = {
  organizationId: string;
  repositoryId?: string;
  status?: FindingStatus;
  rule?: string;
  severity?: Severity;
  /** A file, or a folder prefix. */
  path?: string;
  /** Only findings first seen at or after this time. */
  since?: Date;
  sort?: FindingSort;
  page?: number;
  pageSize?: number;
};

/**
 * The organization's repository ids, looked up once per request: filtering findings by
 * `repositoryId IN (...)` uses the findings index, where a relation filter on
 * `repository.organizationId` makes the database join 100,000 rows.
 */
async function repositoryIdsOf(organizationId: string, repositoryId?: string): Promise<string[]> {
  const rows = await db().repository.findMany({ where: { organizationId, ...(repositoryId ? { id: repositoryId } : {}) }, select: { id: true } });
  return rows.map((r) => r.id);
}

function whereOf(search: FindingSearch, repositoryIds: string[]) {
  const path = search.path?.replace(/^\/+/, "").replace(/\/+$/, "");
  return {
    repositoryId: { in: repositoryIds },
    ...(search.status ? { status: search.status } : {}),
    ...(search.rule ? { rule: search.rule } : {}),
    ...(search.severity ? { severity: search.severity } : {}),
    ...(path ? { OR: [{ path }, { path: { startsWith: `${path}/` } }] } : {}),
    ...(search.since ? { createdAt: { gte: search.since } } : {}),
  };
}

// Severity is a string column whose alphabetical order is not its rank, so the
// severity sort is done per severity in searchFindings; the others are plain orderBy.
function orderOf(sort: Exclude<FindingSort, "severity">) {
  switch (sort) {
    case "path":
      return [{ path: "asc" as const }, { line: "asc" as const }, { id: "asc" as const }];
    case "newest":
      return [{ createdAt: "desc" as const }, { id: "asc" as const }];
    case "rule":
      return [{ rule: "asc" as const }, { path: "asc" as const }, { line: "asc" as const }, { id: "asc" as const }];
  }
}

const severityOrder: Severity[] = ["error", "warning", "info"];

function shape<T extends { status: string; severity: string; fix: string | null }>(f: T) {
  return { ...f, status: f.status as FindingStatus, severity: f.severity as Severity, fix: parseJson<Fix | null>(f.fix, null) };
}

type FindingWhere = ReturnType<typeof whereOf>;
type FindingOrder = ReturnType<typeof orderOf>;

/**
 * A page in two steps: the ids from the index alone (each sort has an index ending in id,
 * so even a page 25,000 rows deep walks index entries, not rows), then those rows.
 */
async function pageOfRows(where: FindingWhere & { severity?: string }, orderBy: FindingOrder, skip: number, take: number) {
  const ids = (await db().finding.findMany({ where, orderBy, skip, take, select: { id: true } })).map((r) => r.id);
  if (ids.length === 0) return [];
  const rows = await db().finding.findMany({ where: { id: { in: ids } }, include: { repository: { select: { id: true, name: true } } } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row ? [shape(row)] : [];
  });
}

/** One page of the findings table with the total count, filtered and sorted on the server. */
export async function searchFindings(search: FindingSearch) {
  const pageSize = Math.min(Math.max(search.pageSize ?? 50, 1), 200);
  const page = Math.max(search.page ?? 1, 1);
  const where = whereOf(search, await repositoryIdsOf(search.organizationId, search.repositoryId));
  const sort = search.sort ?? "severity";
  // One grouped count gives the total and the per-severity counts the severity sort pages by.
  const grouped = await db().finding.groupBy({ by: ["severity"], where, _count: { _all: true } });
  const countOf = (severity: string) => grouped.find((g) => g.severity === severity)?._count._all ?? 0;
  const total = grouped.reduce((sum, g) => sum + g._count._all, 0);
  if (sort !== "severity") {
    return { items: await pageOfRows(where, orderOf(sort), (page - 1) * pageSize, pageSize), total, page, pageSize };
  }
  // By severity: the page is cut from the severities in order, each sorted by path.
  const counts = severityOrder.map(countOf);
  const items = [];
  let skip = (page - 1) * pageSize;
  let take = pageSize;
  for (let i = 0; i < severityOrder.length && take > 0; i++) {
    if (search.severity && search.severity !== severityOrder[i]) continue;
    if (skip >= counts[i]) {
      skip -= counts[i];
      continue;
    }
    const rows = await pageOfRows({ ...where, severity: severityOrder[i] }, orderOf("path"), skip, take);
    items.push(...rows);
    take -= rows.length;
    skip = 0;
  }
  return { items, total, page, pageSize };
}

/** The organization's repositories for the findings filter: names only, no finding counts. */
export async function listRepositoryOptions(organizationId: string): Promise<{ id: string; name: string }[]> {
  return db().repository.findMany({ where: { organizationId, archived: false }, orderBy: { name: "asc" }, select: { id: true, name: true } });
}

/** Rules that have findings in the organization, for the filter list. */
export async function listFindingRules(organizationId: string): Promise<string[]> {
  // GROUP BY in the database; Prisma's `distinct` would read every row.
  const rows = await db().finding.groupBy({ by: ["rule"], where: { repositoryId: { in: await repositoryIdsOf(organizationId) } }, orderBy: { rule: "asc" } });
  return rows.map((r) => r.rule);
}

/** A finding with its repository, status history and fix pull requests; null when it is not in the organization. */
export async function getFindingInOrganization(id: string, organizationId: string) {
  const f = await db().finding.findFirst({
    where: { id, repository: { organizationId } },
    include: {
      repository: true,
      firstSeenScan: { select: { id: true, createdAt: true, commitSha: true } },
      lastSeenScan: { select: { id: true, createdAt: true, commitSha: true } },
      fixedInScan: { select: { id: true, createdAt: true } },
      fixPullRequests: { include: { fixPullRequest: true } },
    },
  });
  if (!f) return null;
  const events = await db().auditEvent.findMany({
    where: { organizationId, targetType: "finding", targetId: id },
    include: { actor: { select: { email: true, name: true } } },
    orderBy: { createdAt: "asc" },
  });
  return {
    ...shape(f),
    history: events.map((e) => {
      const data = parseJson<Record<string, unknown>>(e.data, {});
      const token = data.apiToken as { name?: string } | undefined;
      // Changes made through the REST API name the token that made them.
      const actor = e.actor?.email ?? (token?.name ? `API token "${token.name}"` : null);
      return { id: e.id, action: e.action, at: e.createdAt, actor, data };
    }),
    pullRequests: f.fixPullRequests.map((link) => link.fixPullRequest),
  };
}

/**
 * Triage several findings at once: ignore with a reason (and an optional comment), or
 * reopen. Only findings of the organization are touched; returns how many changed.
 * The dashboard passes the signed-in user; the REST API passes the API token, whose
 * name goes into the audit event so the history says who changed the status.
 */
export async function triageFindings(input: {
  organizationId: string;
  ids: readonly string[];
  status: "ignored" | "open";
  reason?: IgnoreReason | null;
  comment?: string | null;
  actorUserId: string | null;
  apiTokenId?: string | null;
}): Promise<number> {
  if (input.status === "ignored" && !input.reason) throw new Error("ignoring a finding needs a reason");
  if (input.reason && !ignoreReasons.includes(input.reason)) throw new Error(`unknown reason "${input.reason}"`);
  const comment = input.comment?.trim().slice(0, 2000) || null;
  const targets = await db().finding.findMany({
    where: { id: { in: [...input.ids] }, repository: { organizationId: input.organizationId }, status: input.status === "ignored" ? { not: "ignored" } : "ignored" },
    select: { id: true, rule: true, path: true },
  });
  if (targets.length === 0) return 0;
  const token = input.apiTokenId ? await db().apiToken.findFirst({ where: { id: input.apiTokenId, organizationId: input.organizationId }, select: { id: true, name: true } }) : null;
  await db().finding.updateMany({
    where: { id: { in: targets.map((t) => t.id) } },
    data: {
      status: input.status,
      ignoredReason: input.status === "ignored" ? input.reason : null,
      ignoredById: input.status === "ignored" ? input.actorUserId : null,
    },
  });
  for (const t of targets) {
    await recordAuditEvent({
      organizationId: input.organizationId,
      actorUserId: input.actorUserId,
      action: input.status === "ignored" ? "finding.ignored" : "finding.reopened",
      targetType: "finding",
      targetId: t.id,
      data: { reason: input.reason ?? null, comment, rule: t.rule, path: t.path, ...(token ? { apiToken: { id: token.id, name: token.name } } : {}) },
    });
  }
  return targets.length;
}
