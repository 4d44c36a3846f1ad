import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../../../lib/analyzer/config/load-config.ts";
import { applyFileFixes } from "../../../../lib/analyzer/fix/apply-fixes.ts";
import { loadPlugin } from "../../../../lib/analyzer/plugins.ts";
import type { AnalyzeOptions, RuleId } from "../../../../lib/analyzer/types.ts";

// Verified fix application on real analyses: fixes that indent the same lines are
// applied one pass after the other (a single combined edit list would indent once), and
// a file with many fixable findings is verified with a handful of analyses, not one each.

async function python() {
  const plugin = await loadPlugin("python");
  const options: AnalyzeOptions = { config: defaultConfig(), enabledRules: new Set<RuleId>(plugin.rules.map((r) => r.id)) };
  return (path: string, text: string) => {
    const index = plugin.buildIndex([{ path, text }], options);
    let analyses = 0;
    const analyze = (t: string) => {
      analyses++;
      return plugin.analyzeFile({ path, text: t }, index, options);
    };
    return { analyze, analyses: () => analyses };
  };
}

const header = "from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n\n";

describe("applyFileFixes", () => {
  it("applies two fixes that indent the same lines in separate passes, so the file still parses", async () => {
    const text = `${header}def save(x, y):\n    a = SessionLocal()\n    b = SessionLocal()\n    a.add(x)\n    b.add(y)\n    a.commit()\n    b.commit()\n`;
    const { analyze } = (await python())("app/save.py", text);
    const initial = analyze(text);
    const fixable = initial.findings.filter((f) => f.fix?.safety === "safe");
    expect(fixable.length).toBe(2);
    const result = applyFileFixes("app/save.py", text, initial, analyze, false);
    expect(analyze(result.text).error).toBeUndefined();
    expect(result.fixed).toHaveLength(2);
    expect(analyze(result.text).findings.filter((f) => f.rule === "session-not-closed")).toEqual([]);
    expect(result.text).toContain("with SessionLocal() as a:");
    expect(result.text).toContain("with SessionLocal() as b:");
  });

  it("verifies hundreds of independent fixes with a few analyses", async () => {
    const functions = Array.from({ length: 300 }, (_, i) => `def save_${i}(x):\n    s = SessionLocal()\n    s.add(x)\n    s.commit()\n    s.close()\n`);
    const text = `${header}${functions.join("\n\n")}`;
    const { analyze, analyses } = (await python())("app/savers.py", text);
    const initial = analyze(text);
    expect(initial.findings.filter((f) => f.fix?.safety === "safe").length).toBe(300);
    const before = analyses();
    const result = applyFileFixes("app/savers.py", text, initial, analyze, false);
    expect(result.fixed).toHaveLength(300);
    expect(analyses() - before).toBeLessThanOrEqual(5);
    expect(analyze(result.text).findings.filter((f) => f.rule === "session-not-closed")).toEqual([]);
  });
});
