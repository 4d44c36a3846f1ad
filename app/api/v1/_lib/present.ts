import type { FindingRow } from "../../../../lib/db/types.ts";
import { redactGitUrl } from "../../../../lib/scan/snapshot.ts";

// The API's resource shapes (documented in openapi.ts). Dates are ISO strings.

type RepositoryRow = {
  id: string;
  provider: string;
  name: string;
  defaultBranch: string;
  localPath: string | null;
  cloneUrl: string | null;
  archived: boolean;
  createdAt: Date;
  latestScan?: { id: string; status: string; createdAt: Date } | null;
};

export function presentRepository(r: RepositoryRow) {
  return {
    id: r.id,
    provider: r.provider,
    name: r.name,
    defaultBranch: r.defaultBranch,
    path: r.provider === "local" ? r.localPath : null,
    url: r.provider === "git" && r.cloneUrl ? redactGitUrl(r.cloneUrl) : null,
    fullName: r.provider === "github" ? r.name : null,
    archived: r.archived,
    createdAt: r.createdAt.toISOString(),
    latestScan: r.latestScan ? { id: r.latestScan.id, status: r.latestScan.status, createdAt: r.latestScan.createdAt.toISOString() } : null,
  };
}

type ScanRow = {
  id: string;
  repositoryId: string;
  trigger: string;
  status: string;
  commitSha: string | null;
  branch: string | null;
  filesDone: number;
  filesTotal: number;
  findingsCount: number;
  countsByRule: string | Record<string, number>;
  countsBySeverity: string | Record<string, number>;
  durationMs: number | null;
  error: string | null;
  attempts: number;
  cancelRequestedAt: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};

const counts = (value: string | Record<string, number>) => (typeof value === "string" ? (JSON.parse(value || "{}") as Record<string, number>) : value);

export function presentScanSummary(s: ScanRow) {
  return { id: s.id, trigger: s.trigger, status: s.status, commitSha: s.commitSha, createdAt: s.createdAt.toISOString() };
}

export function presentScan(s: ScanRow) {
  return {
    id: s.id,
    repositoryId: s.repositoryId,
    trigger: s.trigger,
    status: s.status,
    commitSha: s.commitSha,
    branch: s.branch,
    filesDone: s.filesDone,
    filesTotal: s.filesTotal,
    findingsCount: s.findingsCount,
    countsByRule: counts(s.countsByRule),
    countsBySeverity: counts(s.countsBySeverity),
    durationMs: s.durationMs,
    error: s.error,
    attempts: s.attempts,
    cancelRequested: s.cancelRequestedAt !== null,
    createdAt: s.createdAt.toISOString(),
    startedAt: s.startedAt?.toISOString() ?? null,
    finishedAt: s.finishedAt?.toISOString() ?? null,
  };
}


export function presentFinding(f: FindingRow) {
  return {
    id: f.id,
    repositoryId: f.repositoryId,
    rule: f.rule,
    severity: f.severity,
    message: f.message,
    path: f.path,
    line: f.line,
    column: f.column,
    endLine: f.endLine,
    endColumn: f.endColumn,
    status: f.status,
    fingerprint: f.fingerprint,
    ignoredReason: f.ignoredReason,
    snippet: f.snippet,
    fix: f.fixSafety,
    firstSeenScanId: f.firstSeenScanId,
    lastSeenScanId: f.lastSeenScanId,
    fixedInScanId: f.fixedInScanId,
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
  };
}
