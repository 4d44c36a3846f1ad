import { type Dirent, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ConfigNote, ForbiddenImportConfig, ImportPoliciesConfig, PolicyOrigin } from "../types.ts";
import { type EslintConfigBans, type EslintConfigKind, eslintBans } from "./eslint-policies.ts";
import { importLinterBans } from "./import-linter.ts";

// Import rules a repository already states for other tools become forbidden-import
// bans, so a team does not write its policy twice: import-linter `forbidden` contracts
// for Python, ESLint `no-restricted-imports` / `import/no-restricted-paths` for
// TypeScript and JavaScript. Config `import_policies` turns either off.

export function readImportPolicies(root: string, enabled: ImportPoliciesConfig): { bans: ForbiddenImportConfig[]; notes: ConfigNote[] } {
  const notes: ConfigNote[] = [];
  const bans: ForbiddenImportConfig[] = [];
  if (!enabled.import_linter && !enabled.eslint) return { bans, notes };
  const dirs = policyDirectories(root);
  if (enabled.import_linter) for (const dir of dirs) bans.push(...importLinterBans(root, dir, notes));
  if (enabled.eslint) bans.push(...eslintPolicies(root, dirs, notes));
  notes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line));
  return { bans, notes };
}

const policyFileNames = new Set([
  ".importlinter", "setup.cfg", "pyproject.toml", "package.json", ".eslintrc", ".eslintrc.js", ".eslintrc.cjs", ".eslintrc.json", ".eslintrc.yml",
  ".eslintrc.yaml", "eslint.config.js", "eslint.config.mjs", "eslint.config.cjs", "eslint.config.ts", "eslint.config.mts", "eslint.config.cts",
]);
// Folders that hold other people's code or build output (as discovery skips them).
const skippedDirectories = new Set(["node_modules", "vendor", "site-packages", "venv", "env", "dist", "build", "third_party", "bower_components", "__pycache__", "coverage"]);

/**
 * Folders (from the root, "" first) that hold a policy file: the root and up to three
 * levels below it, where the projects of a monorepo keep theirs (`packages/web/`).
 */
function policyDirectories(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir ? join(root, dir) : root, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((entry) => entry.isFile() && policyFileNames.has(entry.name))) found.push(dir);
    if (depth === 3) return;
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (!entry.isDirectory() || entry.name.startsWith(".") || skippedDirectories.has(entry.name)) continue;
      visit(dir ? `${dir}/${entry.name}` : entry.name, depth + 1);
    }
  };
  visit("", 0);
  return found;
}

/**
 * ESLint configs of the root and of sub-folders. With flat configs a folder's config
 * replaces the ones above it for its files; legacy `.eslintrc` files merge with the
 * folders above (unless `root: true`), a rule set again replacing the one above.
 */
function eslintPolicies(root: string, dirs: readonly string[], notes: ConfigNote[]): ForbiddenImportConfig[] {
  const configs: (EslintConfigBans & { dir: string; kind: EslintConfigKind })[] = [];
  for (const dir of dirs) {
    const read = eslintBans(root, dir, notes);
    if (read.kind) configs.push({ ...read, dir, kind: read.kind });
  }
  // ESLint 9 reads no .eslintrc files at all once a flat config is in use.
  const rootIsFlat = configs.some((config) => config.dir === "" && config.kind === "flat");
  const used = rootIsFlat ? configs.filter((config) => config.kind === "flat") : configs;
  const under = (dir: string, parent: string) => parent === "" || dir.startsWith(`${parent}/`);
  return used.flatMap((config) => {
    const below = used.filter((other) => other.dir !== config.dir && under(other.dir, config.dir));
    return config.bans.map((ban) => {
      const replacedIn = below
        .filter((other) => other.kind === "flat" || other.isRoot || other.configured.has(ban.policy?.origin.name ?? ""))
        .map((other) => `${other.dir}/**`);
      return replacedIn.length > 0 ? { ...ban, allow_in: [...(ban.allow_in ?? []), ...replacedIn] } : ban;
    });
  });
}

/** "the import-linter contract "Name" (.importlinter line 12)", for finding messages. */
export function describeOrigin(origin: PolicyOrigin): string {
  const where = `${origin.file} line ${origin.line}`;
  return origin.tool === "import-linter" ? `the import-linter contract "${origin.name}" (${where})` : `ESLint's ${origin.name} (${where})`;
}
