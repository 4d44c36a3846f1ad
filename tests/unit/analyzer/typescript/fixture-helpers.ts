import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import type { AnalyzeOptions, ForbiddenImportConfig, PoolguardConfig, RuleId, SourceInput } from "../../../../lib/analyzer/types.ts";

// Loads a fixture folder as a small repository: every file (sources, tsconfig,
// package.json), the expected findings from `// ruleid:` annotations, and the
// folder's `poolguard.yml` when it has one (only `forbidden_imports` is read).

export const FIXTURES = new URL("../../../fixtures/typescript/", import.meta.url).pathname;

const SOURCE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

export function fixtureFolders(): string[] {
  return readdirSync(FIXTURES)
    .filter((name) => statSync(join(FIXTURES, name)).isDirectory())
    .sort();
}

export function loadFolder(folder: string): SourceInput[] {
  const root = join(FIXTURES, folder);
  const files: SourceInput[] = [];
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name === "__fixed__") continue;
      const full = join(dir, name);
      if (statSync(full).isDirectory()) visit(full);
      else if (SOURCE.test(name) || name.endsWith(".json")) {
        files.push({ path: relative(root, full).split("\\").join("/"), text: readFileSync(full, "utf8") });
      }
    }
  };
  visit(root);
  return files;
}

export function isSource(path: string): boolean {
  return SOURCE.test(path);
}

export function optionsFor(folder: string, enabled: readonly RuleId[]): AnalyzeOptions {
  let forbidden: ForbiddenImportConfig[] = [];
  try {
    const raw = parseYaml(readFileSync(join(FIXTURES, folder, "poolguard.yml"), "utf8")) as {
      forbidden_imports?: ForbiddenImportConfig[];
    };
    forbidden = raw.forbidden_imports ?? [];
  } catch {
    forbidden = [];
  }
  const config: PoolguardConfig = {
    forbidden_imports: forbidden,
    sessions: { factories: [], closers: [] },
    rules: {},
    ignore: [],
    source: null,
  };
  return { config, enabledRules: new Set(enabled) };
}

/** "rule:line" for every `// ruleid: rule` annotation (the flagged line is the next one). */
export function expectedFindings(text: string): string[] {
  const expected: string[] = [];
  text.split("\n").forEach((line, index) => {
    const match = /\/\/\s*ruleid:\s*([\w-]+(?:\s*,\s*[\w-]+)*)/.exec(line);
    if (!match) return;
    for (const rule of match[1].split(",")) expected.push(`${rule.trim()}:${index + 2}`);
  });
  return expected.sort();
}

/** Lines marked `// ok: rule` (deliberate look-alikes). */
export function okLines(text: string): string[] {
  const lines: string[] = [];
  text.split("\n").forEach((line, index) => {
    const match = /\/\/\s*ok:\s*([\w-]+)/.exec(line);
    if (match) lines.push(`${match[1]}:${index + 2}`);
  });
  return lines;
}
