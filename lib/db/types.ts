// String unions stored in string columns (identical on SQLite and PostgreSQL).
export type Role = "owner" | "admin" | "member" | "viewer";
export type RepositoryProvider = "github" | "local" | "git";
export type ScanTrigger = "manual" | "schedule" | "push" | "pull_request" | "cli" | "demo";
export type ScanStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "skipped";
export type FindingStatus = "open" | "fixed" | "ignored";
export type FixPullRequestState = "open" | "closed" | "merged";
export type WebhookDeliveryStatus = "received" | "processed" | "failed";

export const roles: readonly Role[] = ["owner", "admin", "member", "viewer"];
export const findingStatuses: readonly FindingStatus[] = ["open", "fixed", "ignored"];

/** What identifies a stored finding and where it is: the columns every reader of findings shares. */
export type FindingLocation = {
  fingerprint: string;
  rule: string;
  severity: string;
  message: string;
  path: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
};

/** A finding row as the API presents it (app/api/v1/_lib/present.ts). */
export type FindingRow = FindingLocation & {
  id: string;
  repositoryId: string;
  status: string;
  ignoredReason: string | null;
  snippet: string;
  fixSafety: string | null;
  firstSeenScanId: string | null;
  lastSeenScanId: string | null;
  fixedInScanId: string | null;
  createdAt: Date;
  updatedAt: Date;
};

/** A finding of a stored scan as the PR bot compares it with a pull request's (lib/github-bot/review.ts). */
export type StoredFinding = FindingLocation & {
  /** Suppressed in source (kept as ignored); findings ignored in the dashboard are still present in the code. */
  suppressed: boolean;
};

/** Parse a JSON text column, falling back when it holds something unexpected. */
export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
