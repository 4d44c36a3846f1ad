// Shared wording of the dashboard: dates and triage reasons read the same on every screen.

/** "2026-12-01 09:31 UTC"; "never" for a missing date. */
export function when(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 16).replace("T", " ")} UTC` : "never";
}

export const reasonLabels: Record<string, string> = { "false-positive": "False positive", "wont-fix": "Won't fix", "test-code": "Used in tests" };

/** How "Open fix PR" groups fixes (a repository setting). */
export const fixGroupingLabels: Record<"rule" | "directory" | "repository", string> = {
  rule: "One pull request per rule",
  directory: "One pull request per folder",
  repository: "One pull request for all fixes",
};
