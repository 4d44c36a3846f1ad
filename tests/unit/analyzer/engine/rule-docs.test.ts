import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { listRules } from "../../../../lib/analyzer/rules.ts";
import { missingHeadings, outputs, requiredHeadings } from "../../../../scripts/generate-rule-docs.ts";

describe("rule docs", () => {
  it("every rule file has every required heading", () => {
    expect(missingHeadings()).toEqual([]);
  });

  it("docs/rules and rule-docs.generated.ts are up to date (run `npm run docs:rules`)", async () => {
    const stale = Object.entries(await outputs())
      .filter(([path, text]) => !existsSync(path) || readFileSync(path, "utf8") !== text)
      .map(([path]) => relative(process.cwd(), path));
    expect(stale).toEqual([]);
  });

  it("every registered rule has generated docs with all sections", () => {
    for (const rule of listRules()) {
      expect(rule.docs, rule.id).not.toBeNull();
      for (const heading of requiredHeadings) expect(rule.docs?.sections[heading], `${rule.id}: ${heading}`).toBeTypeOf("string");
    }
  });
});
