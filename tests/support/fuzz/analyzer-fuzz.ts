import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { defaultConfig } from "../../../lib/analyzer/config/load-config.ts";
import { applyFileFixes } from "../../../lib/analyzer/fix/apply-fixes.ts";
import { applyEdits } from "../../../lib/analyzer/fix/apply-edits.ts";
import { loadPlugin } from "../../../lib/analyzer/plugins.ts";
import type { AnalyzeOptions, FileAnalysis, Language, LanguagePlugin, RuleId } from "../../../lib/analyzer/types.ts";

// Fuzzing the analyzer: hostile and mutated sources go through a language plugin the way
// the engine runs them (index, analyse, fix), and the harness records anything that is
// not a clean answer: a thrown error (a crash), a slow file (a hang in the making), or an
// applied fix that leaves a file that does not parse. The unit suite runs a short,
// seeded run; bench/fuzz.ts runs 100,000 inputs and more.

const root = new URL("../../../", import.meta.url).pathname;

function filesUnder(dir: string, extensions: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path, extensions));
    else if (extensions.some((e) => name.endsWith(e))) out.push(path);
  }
  return out;
}

/** Real sources to mutate: the project's own fixtures (bugs, fixes, look-alikes). */
export function seedSources(language: Language): { path: string; text: string }[] {
  const dirs = language === "python" ? ["tests/fixtures/python", "tests/fixtures/python-fixed"] : ["tests/fixtures/typescript"];
  const extensions = language === "python" ? [".py"] : [".ts", ".tsx", ".js", ".mjs", ".cjs", ".jsx"];
  return dirs.flatMap((d) => filesUnder(join(root, d), extensions)).map((path) => ({ path: relative(root, path), text: readFileSync(path, "utf8") }));
}

const nastyFragments: Record<Language, string[]> = {
  python: [
    "\0",
    "\uFEFF",
    "\r\n",
    "\t",
    "\r",
    "async with",
    "await ",
    "yield ",
    "finally:\n",
    "except:\n",
    "try:\n",
    "session = SessionLocal()\n",
    "conn = await asyncpg.connect()\n",
    "lambda: ",
    ")",
    "(((",
    '"""',
    "'''",
    "\\",
    "\ud800",
    "é",
    "𝒳",
    "def f(",
    "class C:\n",
    "    ",
    ":=",
    "match x:\n    case _:\n",
  ],
  typescript: [
    "\0",
    "\uFEFF",
    "\r\n",
    "\t",
    "const client = await pool.connect();\n",
    "try {",
    "} finally {",
    "}",
    "{",
    "(",
    ")",
    "=>",
    "`${",
    "/*",
    "*/",
    "//",
    "await using r = ",
    "new PrismaClient()",
    ".then(",
    "\ud800",
    "𝒳",
    "<div>",
    "async function f() {",
    "queryRunner.release();",
    ";",
  ],
};

/** A source text: a mutated real file, random bytes, or a pathological shape. */
export function sourceArbitrary(language: Language, seeds: readonly { text: string }[]): fc.Arbitrary<string> {
  const seed = fc.constantFrom(...seeds.map((s) => s.text));
  const fragment = fc.constantFrom(...nastyFragments[language]);
  const mutated = fc
    .tuple(seed, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 40 }), fc.oneof(fragment, fc.string({ maxLength: 12 }))), { minLength: 1, maxLength: 6 }))
    .map(([text, edits]) => {
      let out = text;
      for (const [at, remove, insert] of edits) {
        const i = out.length === 0 ? 0 : at % out.length;
        out = out.slice(0, i) + insert + out.slice(i + remove);
      }
      return out;
    });
  const spliced = fc.tuple(seed, seed, fc.nat(), fc.nat()).map(([a, b, i, j]) => a.slice(0, i % (a.length + 1)) + b.slice(j % (b.length + 1)));
  const bytes = fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b).toString("utf8"));
  const nested = fc.integer({ min: 50, max: 3000 }).map((depth) =>
    language === "python" ? `def f():\n    x = ${"(".repeat(depth)}1${")".repeat(depth)}\n` : `function f() { const x = ${"(".repeat(depth)}1${")".repeat(depth)}; }\n`,
  );
  const deepBlocks = fc.integer({ min: 20, max: 400 }).map((depth) =>
    language === "python"
      ? `def f():\n${Array.from({ length: depth }, (_, i) => `${"    ".repeat(i + 1)}if x:\n`).join("")}${"    ".repeat(depth + 1)}s = Session()\n`
      : `async function f() {${"if (x) {".repeat(depth)}const c = await pool.connect();${"}".repeat(depth)}}\n`,
  );
  const mixedEndings = seed.map((t) => t.replace(/\n/g, (m, i: number) => (i % 3 === 0 ? "\r\n" : i % 5 === 0 ? "\n\t" : m)));
  const withBom = seed.map((t) => `\uFEFF${t}`);
  return fc.oneof(
    { arbitrary: mutated, weight: 6 },
    { arbitrary: spliced, weight: 2 },
    { arbitrary: bytes, weight: 2 },
    { arbitrary: nested, weight: 1 },
    { arbitrary: deepBlocks, weight: 1 },
    { arbitrary: mixedEndings, weight: 1 },
    { arbitrary: withBom, weight: 1 },
  );
}

/** Inputs too big to generate often: a 10 MB single line, long strings that invite backtracking. */
export function hugeInputs(language: Language): string[] {
  const line = language === "python" ? `x = "${"a".repeat(10 * 1024 * 1024)}"\n` : `const x = "${"a".repeat(10 * 1024 * 1024)}";\n`;
  const backtrack =
    language === "python"
      ? `${"session".repeat(20000)} = ${"factory(".repeat(2000)}\n`
      : `${"a".repeat(50000)}.${"then(".repeat(3000)}\n`;
  const manyFunctions =
    language === "python"
      ? Array.from({ length: 5000 }, (_, i) => `def f${i}():\n    s = SessionLocal()\n    return s.query(X)\n`).join("")
      : Array.from({ length: 5000 }, (_, i) => `async function f${i}() { const c = await pool.connect(); return c.query("x"); }\n`).join("");
  return [line, backtrack, manyFunctions, "\0".repeat(100_000), "\uFEFF", ""];
}

export type FuzzProblem = { kind: "crash" | "slow" | "broken-fix"; language: Language; message: string; input: string };

export type FuzzHarness = { language: Language; check: (text: string) => FuzzProblem[] };

/** A harness for one language: analyse one file as the engine would, then apply its fixes. */
export async function fuzzHarness(language: Language, slowMs = 10_000): Promise<FuzzHarness> {
  const plugin: LanguagePlugin = await loadPlugin(language);
  const enabledRules = new Set<RuleId>(plugin.rules.map((r) => r.id));
  const options: AnalyzeOptions = { config: defaultConfig(), enabledRules };
  const path = language === "python" ? "app/fuzzed.py" : "src/fuzzed.ts";
  const check = (text: string): FuzzProblem[] => {
    const problems: FuzzProblem[] = [];
    const started = performance.now();
    let analysis: FileAnalysis;
    const analyze = (t: string) => plugin.analyzeFile({ path, text: t }, index, options);
    let index: unknown;
    try {
      index = plugin.buildIndex([{ path, text }], options);
      analysis = analyze(text);
    } catch (error) {
      return [{ kind: "crash", language, message: error instanceof Error ? (error.stack ?? error.message) : String(error), input: text }];
    }
    const elapsed = performance.now() - started;
    if (elapsed > slowMs) problems.push({ kind: "slow", language, message: `${elapsed.toFixed(0)} ms for ${text.length} characters`, input: text });
    if (analysis.error || !analysis.findings.some((f) => f.fix)) return problems;
    try {
      const fixed = applyFileFixes(path, text, analysis, analyze, true);
      if (fixed.fixed.length > 0 && analyze(fixed.text).error) {
        problems.push({ kind: "broken-fix", language, message: `applied fixes leave a file that does not parse: ${analyze(fixed.text).error}`, input: text });
      }
      // A safe fix's raw edits must parse on their own too (the engine would drop it, but a safe fix that breaks code is a defect).
      for (const finding of analysis.findings) {
        if (finding.fix?.safety !== "safe") continue;
        const after = analyze(applyEdits(text, finding.fix.edits));
        if (after.error) problems.push({ kind: "broken-fix", language, message: `safe ${finding.rule} fix at line ${finding.start.line} breaks the file: ${after.error}`, input: text });
      }
    } catch (error) {
      problems.push({ kind: "crash", language, message: `fixing: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, input: text });
    }
    return problems;
  };
  return { language, check };
}
