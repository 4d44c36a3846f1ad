import { describe, expect, it } from "vitest";
import { applyEdits } from "../../../../lib/analyzer/fix/apply-edits.ts";
import { typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import type { AnalyzeOptions, RawFinding } from "../../../../lib/analyzer/types.ts";

// A TypeORM runner this function creates only when it was given none
// (`this.queryRunner ?? ds.createQueryRunner()`) and releases under the code's own guard
// only after the work succeeded: the fix moves the guarded release (with its comment) into
// `finally`. Never an unguarded release: that would free the caller's runner.

const options: AnalyzeOptions = {
  config: { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], source: null },
  enabledRules: new Set(typescriptPlugin.rules.map((rule) => rule.id)),
};

function runnerFindings(text: string, path = "src/migrations.ts"): RawFinding[] {
  const files = [{ path, text }];
  return typescriptPlugin.analyzeFile({ path, text }, typescriptPlugin.buildIndex(files, options), options).findings.filter((f) => f.rule === "query-runner-not-released");
}

const head = ['import type { DataSource, QueryRunner } from "typeorm";', "", "export class Migrations {", "    constructor(private dataSource: DataSource, private queryRunner?: QueryRunner) {}", ""];

describe("guarded release fix for a conditionally owned query runner", () => {
  it("moves the guarded release and its comment into finally", () => {
    const text = [
      ...head,
      "    async show(): Promise<number> {",
      "        const queryRunner = this.queryRunner ?? this.dataSource.createQueryRunner()",
      "        const rows = await queryRunner.query('SELECT 1')",
      "",
      "        // if query runner was created by us then release it",
      "        if (!this.queryRunner) {",
      "            await queryRunner.release()",
      "        }",
      "        return rows.length",
      "    }",
      "}",
      "",
    ].join("\n");
    const [finding] = runnerFindings(text);
    expect(finding?.fix?.safety).toBe("safe");
    const fixed = applyEdits(text, finding.fix?.edits ?? []);
    expect(fixed).toBe(
      [
        ...head,
        "    async show(): Promise<number> {",
        "        const queryRunner = this.queryRunner ?? this.dataSource.createQueryRunner()",
        "        try {",
        "            const rows = await queryRunner.query('SELECT 1')",
        "",
        "            return rows.length",
        "        } finally {",
        "            // if query runner was created by us then release it",
        "            if (!this.queryRunner) {",
        "                await queryRunner.release()",
        "            }",
        "        }",
        "    }",
        "}",
        "",
      ].join("\n"),
    );
    expect(runnerFindings(fixed)).toEqual([]);
  });

  it("offers no fix for an unguarded release, a guard that calls something, or a guard whose field changes", () => {
    const variants = [
      ["        await queryRunner.release()"],
      ["        if (this.shouldRelease()) await queryRunner.release()"],
      ["        if (!this.queryRunner) await queryRunner.release()", "        this.queryRunner = undefined"],
    ];
    for (const tail of variants) {
      const text = [
        ...head,
        "    shouldRelease() { return !this.queryRunner }",
        "",
        "    async show(): Promise<void> {",
        "        const queryRunner = this.queryRunner ?? this.dataSource.createQueryRunner()",
        "        await queryRunner.query('SELECT 1')",
        ...(tail.length > 1 ? [tail[1], tail[0]] : tail),
        "    }",
        "}",
        "",
      ].join("\n");
      const findings = runnerFindings(text);
      expect(findings.length, tail.join("\n")).toBeGreaterThan(0);
      for (const finding of findings) expect(finding.fix, tail.join("\n")).toBeNull();
    }
  });
});
