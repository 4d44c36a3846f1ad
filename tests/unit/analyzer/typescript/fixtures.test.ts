import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyEdits, editsOverlap } from "../../../../lib/analyzer/fix/apply-edits.ts";
import { typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import type { RawFinding, RuleId, TextEdit } from "../../../../lib/analyzer/types.ts";
import { expectedFindings, FIXTURES, fixtureFolders, isSource, loadFolder, okLines, optionsFor } from "./fixture-helpers.ts";

// Semgrep-style fixtures: every file under tests/fixtures/typescript/<rule>/ is scanned
// with all TypeScript rules and an index over its folder; the findings must be exactly
// the `// ruleid:` annotations. Every fix is applied, snapshotted into __fixed__/,
// re-parsed, and re-scanned: the finding it fixes must be gone.

const ALL_RULES = typescriptPlugin.rules.map((rule) => rule.id) as RuleId[];

describe.each(fixtureFolders())("fixtures: %s", (folder) => {
  const files = loadFolder(folder);
  const options = optionsFor(folder, ALL_RULES);
  const index = typescriptPlugin.buildIndex(files, options);
  const sources = files.filter((file) => isSource(file.path));

  it.each(sources.map((file) => [file.path, file] as const))("%s: findings match the annotations", (_path, file) => {
    const analysis = typescriptPlugin.analyzeFile(file, index, options);
    expect(analysis.error).toBeUndefined();
    const actual = analysis.findings.map((finding) => `${finding.rule}:${finding.start.line}`).sort();
    expect(actual).toEqual(expectedFindings(file.text));
    for (const ok of okLines(file.text)) expect(actual).not.toContain(ok);
    for (const finding of analysis.findings) {
      expect(finding.scope.length).toBeGreaterThan(0);
      expect(finding.message.length).toBeGreaterThan(20);
    }
  });

  const withFixes = sources.filter((file) =>
    typescriptPlugin.analyzeFile(file, index, options).findings.some((finding) => finding.fix !== null),
  );
  it.each(withFixes.map((file) => [file.path, file] as const))("%s: fixes apply, parse and remove the finding", async (_path, file) => {
    const findings = typescriptPlugin.analyzeFile(file, index, options).findings;
    const fixed = findings.filter((finding) => finding.fix !== null);
    const chosen: RawFinding[] = [];
    const edits: TextEdit[] = [];
    for (const finding of fixed) {
      const fixEdits = finding.fix!.edits;
      for (const edit of fixEdits) expect(edit.path).toBe(file.path);
      if (editsOverlap(edits, fixEdits)) continue; // the engine applies overlapping fixes in a later round
      chosen.push(finding);
      edits.push(...fixEdits);
    }
    const output = applyEdits(file.text, edits);
    const snapshot = join(FIXTURES, folder, "__fixed__", file.path);
    mkdirSync(dirname(snapshot), { recursive: true });
    await expect(output).toMatchFileSnapshot(snapshot);

    const after = typescriptPlugin.analyzeFile({ path: file.path, text: output }, index, options);
    expect(after.error).toBeUndefined();
    // Findings are keyed by rule and scope (lines move); each applied fix removes one.
    const count = (list: readonly RawFinding[]) => {
      const counts = new Map<string, number>();
      for (const finding of list) counts.set(`${finding.rule}@${finding.scope}`, (counts.get(`${finding.rule}@${finding.scope}`) ?? 0) + 1);
      return counts;
    };
    const before = count(findings);
    const remaining = count(after.findings);
    const fixedCounts = count(chosen);
    for (const [key, fixedCount] of fixedCounts) {
      expect(remaining.get(key) ?? 0).toBeLessThanOrEqual((before.get(key) ?? 0) - fixedCount);
    }
  });
});
