import type { ConfigNote, ForbiddenImportConfig, ImportPoliciesConfig, PolicyOrigin } from "../types.ts";
import { eslintBans } from "./eslint-policies.ts";
import { importLinterBans } from "./import-linter.ts";

// Import rules a repository already states for other tools become forbidden-import
// bans, so a team does not write its policy twice: import-linter `forbidden` contracts
// for Python, ESLint `no-restricted-imports` / `import/no-restricted-paths` for
// TypeScript and JavaScript. Config `import_policies` turns either off.

export function readImportPolicies(root: string, enabled: ImportPoliciesConfig): { bans: ForbiddenImportConfig[]; notes: ConfigNote[] } {
  const notes: ConfigNote[] = [];
  const bans: ForbiddenImportConfig[] = [];
  if (enabled.import_linter) bans.push(...importLinterBans(root, notes));
  if (enabled.eslint) bans.push(...eslintBans(root, notes));
  notes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line));
  return { bans, notes };
}

/** "the import-linter contract "Name" (.importlinter line 12)", for finding messages. */
export function describeOrigin(origin: PolicyOrigin): string {
  const where = `${origin.file} line ${origin.line}`;
  return origin.tool === "import-linter" ? `the import-linter contract "${origin.name}" (${where})` : `ESLint's ${origin.name} (${where})`;
}
