import type { AnalyzeOptions } from "../types.ts";

/** Last name segments of `sessions.closers` (`myapp.db.release` → `release`). */
export function closerNames(options: AnalyzeOptions): Set<string> {
  return new Set(options.config.sessions.closers.map((closer) => closer.split(/[.:/]/).pop() ?? closer));
}
