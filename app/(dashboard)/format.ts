// Shared wording of the dashboard: dates and triage reasons read the same on every screen.

/** "2026-12-01 09:31 UTC"; "never" for a missing date. */
export function when(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 16).replace("T", " ")} UTC` : "never";
}

export const reasonLabels: Record<string, string> = { "false-positive": "False positive", "wont-fix": "Won't fix", "test-code": "Used in tests" };
