import type { RawFinding, RuleMeta } from "../types.ts";
import type { RuleContext } from "./context.ts";

// Placeholder until lib/analyzer/rules/forbidden-import.ts lands.
export const forbiddenImportRuleMeta: RuleMeta = {
  id: "forbidden-import",
  languages: ["python", "typescript"],
  defaultSeverity: "error",
  fix: "safe",
  summary: "An import the repository's config bans outside allowed paths",
};

export function checkForbiddenImports(_context: RuleContext): RawFinding[] {
  return [];
}
