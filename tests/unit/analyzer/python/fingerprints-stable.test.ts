import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";

// Users triage findings by fingerprint: every Python fixture finding the engine before
// the rewrite reported (scanned with tests/fixtures/python as the root) must still be
// reported on the same rule, path and line, with the same fingerprint.
const fixtures = join(import.meta.dirname, "../../../fixtures/python");
const before = JSON.parse(readFileSync(join(import.meta.dirname, "../../../fixtures/fingerprints-before-engine.json"), "utf8")) as {
  python: { rule: string; path: string; line: number; fingerprint: string }[];
};

describe("python fingerprints survive the engine rewrite", () => {
  it("every earlier finding keeps its rule, line and fingerprint", async () => {
    const result = await scan({ root: fixtures, jobs: 1 });
    const now = new Map(result.findings.map((f) => [`${f.rule} ${f.path}:${f.line}`, f.fingerprint]));
    expect(before.python.length).toBeGreaterThan(0);
    const lost = before.python.filter((f) => !now.has(`${f.rule} ${f.path}:${f.line}`));
    expect(lost, "findings that disappeared").toEqual([]);
    for (const f of before.python) expect(now.get(`${f.rule} ${f.path}:${f.line}`), `${f.rule} ${f.path}:${f.line}`).toBe(f.fingerprint);
  });
});
