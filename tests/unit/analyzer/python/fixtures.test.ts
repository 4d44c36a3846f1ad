import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";
import { key, readExpectations } from "../fixture-expectations.ts";

const fixtures = join(import.meta.dirname, "../../../fixtures/python");
const ruleDirs = readdirSync(fixtures).sort();

describe("python rule fixtures (inline expectations)", () => {
  it.each(ruleDirs)("%s: findings are exactly the ruleid annotations", async (dir) => {
    const root = join(fixtures, dir);
    const { expected, okLines } = readExpectations(root, [".py"]);
    expect(expected.length, "every fixture folder has at least one expected finding").toBeGreaterThan(0);
    const result = await scan({ root, jobs: 1 });
    expect(result.errors).toEqual([]);
    const actual = result.findings.map((f) => key({ path: f.path, line: f.line, rule: f.rule })).sort();
    expect(actual).toEqual(expected.map(key).sort());
    for (const ok of okLines) expect(actual).not.toContain(key(ok));
  });
});
