import { describe, expect, it } from "vitest";
import { applyEdits } from "../../../../lib/analyzer/fix/apply-edits.ts";
import { typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import type { AnalyzeOptions, RawFinding } from "../../../../lib/analyzer/types.ts";

// The try/finally fix is safe by proof only when the name in its finally still holds the
// acquired value and every release it drops was the value's last use. A runner variable
// released and then reassigned (seen on a real TypeORM code base) must get no fix: the
// finally would free the second runner only, and the first would leak.

const options: AnalyzeOptions = {
  config: { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], source: null },
  enabledRules: new Set(typescriptPlugin.rules.map((rule) => rule.id)),
};

function scan(text: string, path = "src/replicas.ts"): RawFinding[] {
  const files = [{ path, text }];
  return typescriptPlugin.analyzeFile({ path, text }, typescriptPlugin.buildIndex(files, options), options).findings;
}

const header = ['import type { DataSource } from "typeorm";', ""];

describe("try/finally fix with a reassigned or early-released variable", () => {
  it("offers no fix when the runner variable is released and then bound to a new runner", () => {
    const text = [
      ...header,
      "export async function copy(ds: DataSource) {",
      '  let qr = ds.createQueryRunner("master");',
      '  const rows = await qr.query("SELECT id FROM cache");',
      "  await qr.release();",
      '  qr = ds.createQueryRunner("slave");',
      '  await qr.query("INSERT INTO copy VALUES ($1)", [rows.length]);',
      "  await qr.release();",
      "}",
      "",
    ].join("\n");
    const first = scan(text).filter((f) => f.rule === "query-runner-not-released" && f.start.line === 4);
    expect(first).toHaveLength(1);
    expect(first[0].fix).toBeNull();
    // No finding of the file carries a fix whose finally would drop the first release.
    for (const finding of scan(text)) {
      if (!finding.fix) continue;
      const fixed = applyEdits(text, finding.fix.edits);
      expect(fixed.split("\n").filter((line) => line.includes("qr.release()")).length).toBeGreaterThanOrEqual(2);
    }
  });

  it("offers no fix when the variable is reassigned later in a nested block or by destructuring", () => {
    for (const reassign of ["  if (again) { qr = ds.createQueryRunner(); }", "  [qr] = [ds.createQueryRunner()];", "  qr ??= ds.createQueryRunner();"]) {
      const text = [
        ...header,
        "export async function copy(ds: DataSource, again: boolean) {",
        "  let qr = ds.createQueryRunner();",
        '  await qr.query("SELECT 1");',
        "  await qr.release();",
        reassign,
        '  await qr.query("SELECT 2");',
        "  await qr.release();",
        "}",
        "",
      ].join("\n");
      const first = scan(text).filter((f) => f.rule === "query-runner-not-released" && f.start.line === 4);
      expect(first, reassign).toHaveLength(1);
      expect(first[0].fix, reassign).toBeNull();
    }
  });

  it("offers no fix when the runner is used after the release the fix would drop", () => {
    const text = [
      ...header,
      "export async function copy(ds: DataSource) {",
      "  const qr = ds.createQueryRunner();",
      '  await qr.query("SELECT 1");',
      "  await qr.release();",
      "  console.log(qr.isReleased);",
      "}",
      "",
    ].join("\n");
    const first = scan(text).filter((f) => f.rule === "query-runner-not-released" && f.start.line === 4);
    expect(first).toHaveLength(1);
    expect(first[0].fix).toBeNull();
  });

  it("keeps the safe fix for the plain shape (a use after the release of a value read before it), every untouched line byte-identical", () => {
    const text = [
      ...header,
      "export async function count(ds: DataSource) {",
      "  let qr = ds.createQueryRunner();",
      '  const rows = await qr.query("SELECT count(*) AS n FROM cache");',
      "  await qr.release();",
      "  return rows[0].n;",
      "}",
      "",
    ].join("\n");
    const findings = scan(text);
    expect(findings).toHaveLength(1);
    const fix = findings[0].fix;
    expect(fix?.safety).toBe("safe");
    const fixed = applyEdits(text, fix!.edits);
    expect(fixed).toBe(
      [
        ...header,
        "export async function count(ds: DataSource) {",
        "  let qr = ds.createQueryRunner();",
        "  try {",
        '    const rows = await qr.query("SELECT count(*) AS n FROM cache");',
        "    return rows[0].n;",
        "  } finally {",
        "    await qr.release();",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });
});
