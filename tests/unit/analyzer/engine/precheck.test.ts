import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";
import { typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import type { AnalyzeOptions } from "../../../../lib/analyzer/types.ts";

// While the index is built, idle analysis processes precheck the files that name no
// library resource (TypeScript: the syntax check). The scan must give exactly what
// analysing every file after the index gives: a file that reaches a resource only
// through a project wrapper is still analysed, a broken file is still reported.

const root = mkdtempSync(join(tmpdir(), "poolguard-precheck-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const options = {
  config: { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], source: null },
  enabledRules: new Set(typescriptPlugin.rules.map((rule) => rule.id)),
} as unknown as AnalyzeOptions;

describe("prechecks while the index is built", () => {
  mkdirSync(join(root, "src"), { recursive: true });
  writeFileSync(
    join(root, "src/db.ts"),
    'import { DataSource } from "typeorm";\nexport const dataSource = new DataSource({ type: "postgres" });\nexport function getRunner() {\n  return dataSource.createQueryRunner();\n}\n',
  );
  // Reached only through the wrapper: no library callable in the text.
  for (let i = 0; i < 30; i++) {
    writeFileSync(
      join(root, `src/wrapped_${String(i).padStart(2, "0")}.ts`),
      `import { getRunner } from "./db";\nexport async function count${i}() {\n  const runner = getRunner();\n  return runner.query("select ${i}");\n}\n`,
    );
  }
  // Names a library callable directly.
  for (let i = 0; i < 10; i++) {
    writeFileSync(
      join(root, `src/direct_${i}.ts`),
      `import { dataSource } from "./db";\nexport async function load${i}() {\n  const runner = dataSource.createQueryRunner();\n  await runner.query("select ${i}");\n}\n`,
    );
  }
  for (let i = 0; i < 30; i++) writeFileSync(join(root, `src/plain_${String(i).padStart(2, "0")}.ts`), `export const connectionName${i} = "db${i}";\n`);
  // Names the wrapper, so it is analysed once the index knows it, and its syntax error reported.
  writeFileSync(join(root, "src/broken.ts"), 'import { getRunner } from "./db";\nexport function broken( {\n  return getRunner();\n');
  // Names nothing the analysis looks for: not parsed, so not in errors.
  writeFileSync(join(root, "src/broken_plain.ts"), "export function broken( {\n  return 1;\n");

  it("gives the same findings and errors as analysing every file in process", async () => {
    const parallel = await scan({ root, jobs: 2, config: options.config });
    const serial = await scan({ root, jobs: 1, config: options.config });
    expect(parallel.files_scanned).toBe(73);
    expect(parallel.findings).toEqual(serial.findings);
    expect(parallel.errors).toEqual(serial.errors);
    const byPath = new Set(parallel.findings.map((f) => f.path));
    for (let i = 0; i < 30; i++) expect(byPath.has(`src/wrapped_${String(i).padStart(2, "0")}.ts`)).toBe(true);
    for (let i = 0; i < 10; i++) expect(byPath.has(`src/direct_${i}.ts`)).toBe(true);
    expect(parallel.findings.filter((f) => f.path.startsWith("src/plain_"))).toEqual([]);
    expect(parallel.errors).toEqual([{ path: "src/broken.ts", message: expect.stringMatching(/^syntax error at line \d+: /) }]);
  });

  it("leaves to the full analysis what only the index can settle", () => {
    const wrapped = { path: "src/wrapped_00.ts", text: 'import { getRunner } from "./db";\nexport const r = getRunner();\n' };
    const pre = typescriptPlugin.precheck?.(wrapped, options);
    expect(pre).toEqual({ findings: [] });
    const db = { path: "src/db.ts", text: "export function getRunner() {\n  return ds.createQueryRunner();\n}\n" };
    const index = typescriptPlugin.buildIndex([db, wrapped], options);
    expect(typescriptPlugin.afterPrecheck?.(wrapped, pre as never, index, options)).toBeNull();
    expect(typescriptPlugin.precheck?.(db, options)).toBeNull();
    // A file that names nothing is not parsed (required-word prefilter): no syntax check either.
    const broken = { path: "src/broken.ts", text: "export function broken( {\n" };
    const failed = typescriptPlugin.precheck?.(broken, options);
    expect(failed).toEqual({ findings: [] });
    expect(typescriptPlugin.afterPrecheck?.(broken, failed as never, index, options)).toEqual(typescriptPlugin.analyzeFile(broken, index, options));
    // One that names the wrapper is analysed after the index, and its syntax error reported.
    const brokenWrapped = { path: "src/broken.ts", text: "const r = getRunner();\nexport function broken( {\n" };
    const pending = typescriptPlugin.precheck?.(brokenWrapped, options);
    expect(typescriptPlugin.afterPrecheck?.(brokenWrapped, pending as never, index, options)).toBeNull();
    expect(typescriptPlugin.analyzeFile(brokenWrapped, index, options).error).toMatch(/^syntax error/);
  });
});
