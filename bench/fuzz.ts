// Long fuzz run of the analyzer: `npx tsx bench/fuzz.ts [--inputs 100000] [--seed N] [--language python|typescript]`
//
// Generates mutated real sources, random bytes, invalid UTF-8, NULs, BOMs, mixed line
// endings, deep nesting and huge files (tests/support/fuzz/analyzer-fuzz.ts), runs each
// through the language plugin as the engine does (index, analyse, apply fixes) and counts
// crashes, inputs slower than the engine's per-file limit, and fixes that break a file.
// Failing inputs are written to /tmp/poolguard-fuzz/ for reproduction.
import { mkdirSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import type { Language } from "../lib/analyzer/types.ts";
import { fuzzHarness, hugeInputs, seedSources, sourceArbitrary } from "../tests/support/fuzz/analyzer-fuzz.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const total = Number(option("inputs", "100000"));
const seed = Number(option("seed", "1"));
const only = option("language", "");
const perFileLimitMs = 10_000; // the engine's default per-file time limit (fileTimeoutMs)
const out = "/tmp/poolguard-fuzz";

const languages: Language[] = only ? [only as Language] : ["python", "typescript"];
const summary: string[] = [];
for (const language of languages) {
  const harness = await fuzzHarness(language, perFileLimitMs);
  const arbitrary = sourceArbitrary(language, seedSources(language));
  const inputs = Math.ceil(total / languages.length);
  const counts = { crash: 0, slow: 0, "broken-fix": 0 };
  let slowest = 0;
  let characters = 0;
  const started = performance.now();
  const check = (text: string) => {
    const t = performance.now();
    const problems = harness.check(text);
    slowest = Math.max(slowest, performance.now() - t);
    characters += text.length;
    for (const p of problems) {
      counts[p.kind]++;
      mkdirSync(out, { recursive: true });
      writeFileSync(`${out}/${language}-${p.kind}-${counts[p.kind]}.txt`, `${p.message}\n----- input -----\n${p.input.slice(0, 200_000)}`);
    }
  };
  for (const text of hugeInputs(language)) check(text);
  // Batches of generated inputs, each batch from its own seed (reproducible with --seed).
  const batch = 1000;
  for (let done = 0; done < inputs; done += batch) {
    for (const text of fc.sample(arbitrary, { numRuns: Math.min(batch, inputs - done), seed: seed + done })) check(text);
    if ((done + batch) % 10000 === 0) console.error(`[${language}] ${done + batch}/${inputs} inputs, ${counts.crash} crashes, ${counts.slow} slow, ${counts["broken-fix"]} broken fixes`);
  }
  const seconds = (performance.now() - started) / 1000;
  summary.push(
    `| ${language} | ${inputs + hugeInputs(language).length} | ${(characters / 1e6).toFixed(1)} MB | ${counts.crash} | ${counts.slow} | ${counts["broken-fix"]} | ${slowest.toFixed(0)} ms | ${seconds.toFixed(0)} s |`,
  );
}
console.log(`\nseed ${seed}; slow = over the ${perFileLimitMs / 1000} s per-file limit; failing inputs in ${out}/\n`);
console.log("| language | inputs | text | crashes | slow | broken fixes | slowest input | time |\n|---|---|---|---|---|---|---|---|");
console.log(summary.join("\n"));
