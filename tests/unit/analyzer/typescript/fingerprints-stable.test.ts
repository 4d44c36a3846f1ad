import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";

// Users triage findings by fingerprint: a finding that exists before and after the engine
// rewrite must keep it. tests/fixtures/fingerprints-before-engine.json holds every fixture
// finding of the engine before the rewrite (tests/fixtures/typescript scanned as the root).

const ROOT = new URL("../../../fixtures/typescript/", import.meta.url).pathname;
type Entry = { rule: string; path: string; line: number; fingerprint: string };
const before = (JSON.parse(readFileSync(new URL("../../../fixtures/fingerprints-before-engine.json", import.meta.url), "utf8")) as { typescript: Entry[] })
  .typescript;

/**
 * Findings that are gone on purpose. `__fixed__/` files are the fixes' own output: the
 * try/finally fix now wraps only the statements that use the resource, so the snapshots
 * (and the lines of what is still reported in them) changed with it.
 */
function expectedToMove(entry: Entry): string | null {
  if (entry.path.includes("/__fixed__/")) return "fix output changed (minimal try/finally)";
  return null;
}

describe("fingerprints survive the engine rewrite (TypeScript fixtures)", async () => {
  const result = await scan({ root: ROOT, jobs: 1 });
  const after = new Map(result.findings.map((finding) => [`${finding.rule}|${finding.path}|${finding.line}`, finding.fingerprint]));
  const checked = before.filter((entry) => expectedToMove(entry) === null);

  it("covers the fixture findings from before", () => {
    expect(checked.length).toBeGreaterThan(20);
  });

  it.each(checked.map((entry) => [`${entry.rule} ${entry.path}:${entry.line}`, entry] as const))("%s keeps its fingerprint", (_name, entry) => {
    const key = `${entry.rule}|${entry.path}|${entry.line}`;
    expect(after.has(key), `${key} is still reported`).toBe(true);
    expect(after.get(key)).toBe(entry.fingerprint);
  });
});
