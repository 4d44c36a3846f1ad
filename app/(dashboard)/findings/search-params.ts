import type { Severity } from "../../../lib/analyzer/types.ts";
import { type FindingSearch, type FindingSort, type FindingStatus, findingSorts, findingStatuses } from "../../../lib/db/index.ts";

// The findings filters live in the URL (shareable, back-button friendly); this is the
// one parser of them for the page, the export route and the triage action.

export type FindingsQuery = {
  status?: string;
  severity?: string;
  rule?: string;
  repository?: string;
  path?: string;
  since?: string;
  sort?: string;
  page?: string;
};

const severities: readonly Severity[] = ["error", "warning", "info"];

export function parseFindingsQuery(query: FindingsQuery, organizationId: string): FindingSearch & { status: FindingStatus | undefined } {
  const status = query.status === "any" ? undefined : findingStatuses.includes(query.status as FindingStatus) ? (query.status as FindingStatus) : "open";
  const since = query.since && /^\d{4}-\d{2}-\d{2}$/.test(query.since) ? new Date(`${query.since}T00:00:00Z`) : undefined;
  return {
    organizationId,
    status,
    severity: severities.includes(query.severity as Severity) ? (query.severity as Severity) : undefined,
    rule: query.rule && /^[a-z-]+$/.test(query.rule) ? query.rule : undefined,
    repositoryId: query.repository && /^[\w-]+$/.test(query.repository) ? query.repository : undefined,
    path: query.path?.trim() ? query.path.trim().slice(0, 500) : undefined,
    since: since && !Number.isNaN(since.getTime()) ? since : undefined,
    sort: findingSorts.includes(query.sort as FindingSort) ? (query.sort as FindingSort) : "severity",
    page: Math.max(1, Number.parseInt(query.page ?? "1", 10) || 1),
    pageSize: 50,
  };
}

/** The URL of the findings list with some filters changed. */
export function findingsHref(query: FindingsQuery, changes: Partial<FindingsQuery>, base = "/findings"): string {
  const merged = { ...query, ...changes };
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(merged)) if (value) params.set(key, value);
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}
