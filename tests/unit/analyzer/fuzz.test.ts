import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Language } from "../../../lib/analyzer/types.ts";
import { fuzzHarness, hugeInputs, seedSources, sourceArbitrary } from "../../support/fuzz/analyzer-fuzz.ts";

// A short, seeded fuzz run per language (the long run is bench/fuzz.ts): no input makes
// the analyzer throw or produce a fix that breaks the file. Seeds are fixed so a failure
// reproduces; fast-check shrinks it to a small input in the report.

const runs = Number(process.env.POOLGUARD_FUZZ_RUNS ?? 150);

describe.each(["python", "typescript"] as Language[])("fuzzing the %s analyzer", (language) => {
  it("answers every mutated, random or pathological input without crashing or breaking files", async () => {
    const harness = await fuzzHarness(language, 30_000);
    const seeds = seedSources(language);
    expect(seeds.length).toBeGreaterThan(5);
    fc.assert(
      fc.property(sourceArbitrary(language, seeds), (text) => {
        const problems = harness.check(text).filter((p) => p.kind !== "slow");
        expect(problems.map((p) => `${p.kind}: ${p.message.split("\n")[0]}`)).toEqual([]);
      }),
      { numRuns: runs, seed: language === "python" ? 20261201 : 20261202 },
    );
  }, 300_000);

  it("survives huge and degenerate files (10 MB line, NULs, thousands of functions)", async () => {
    const harness = await fuzzHarness(language, 60_000);
    for (const text of hugeInputs(language)) {
      const problems = harness.check(text).filter((p) => p.kind === "crash" || p.kind === "broken-fix");
      expect(problems.map((p) => p.message.split("\n")[0])).toEqual([]);
    }
  }, 300_000);
});
