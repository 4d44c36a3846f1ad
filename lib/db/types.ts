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

/** Parse a JSON text column, falling back when it holds something unexpected. */
export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
