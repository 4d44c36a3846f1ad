import { describe, expect, it } from "vitest";
import { type CorpusCase, inRange, scoreCase, tally, validateCases } from "../../../bench/corpus/score.ts";

const sha = (c: string) => c.repeat(40);
const bug: CorpusCase = {
  id: "demo-1",
  set: "dev",
  repo: "owner/name",
  language: "python",
  rule: "session-not-closed",
  kind: "bug",
  fix_commit: sha("a"),
  buggy_commit: sha("b"),
  path: "app/x.py",
  lines: [10, 12],
  fixed_lines: [10, 14],
  note: "demo",
};

describe("recall corpus scoring", () => {
  it("widens ranges by the tolerance on both sides", () => {
    expect(inRange(7, [10, 12])).toBe(true);
    expect(inRange(6, [10, 12])).toBe(false);
    expect(inRange(15, [10, 12])).toBe(true);
    expect(inRange(16, [10, 12])).toBe(false);
    expect(inRange(11, [12, 10], 0)).toBe(true);
  });

  it("detects only the expected rule inside the buggy range, ignoring suppressed findings", () => {
    const buggy = {
      findings: [
        { rule: "connection-not-closed", path: "app/x.py", line: 11 },
        { rule: "session-not-closed", path: "app/x.py", line: 40 },
        { rule: "session-not-closed", path: "app/x.py", line: 12, suppressed: true },
      ],
    };
    const missed = scoreCase(bug, buggy, { findings: [] });
    expect(missed.detected).toBe(false);
    expect(missed.buggyFileFindings).toHaveLength(2);

    const hit = scoreCase(bug, { findings: [...buggy.findings, { rule: "session-not-closed", path: "app/x.py", line: 9 }] }, { findings: [] });
    expect(hit.detected).toBe(true);
    expect(hit.falseAlarm).toBe(false);
  });

  it("counts a finding of the rule in the fixed range as a false alarm, elsewhere only as context", () => {
    const outside = scoreCase(bug, { findings: [] }, { findings: [{ rule: "session-not-closed", path: "app/x.py", line: 30 }] });
    expect(outside.falseAlarm).toBe(false);
    expect(outside.fixedFileFindings).toHaveLength(1);
    const inside = scoreCase(bug, { findings: [] }, { findings: [{ rule: "session-not-closed", path: "app/x.py", line: 17 }] });
    expect(inside.falseAlarm).toBe(true);
  });

  it("computes recall over bugs and precision as TP / (TP + FP)", () => {
    const clean: CorpusCase = { ...bug, id: "demo-2", kind: "clean", buggy_commit: undefined, fixed_lines: undefined };
    const outcomes = [
      scoreCase(bug, { findings: [{ rule: bug.rule, path: bug.path, line: 10 }] }, { findings: [] }),
      scoreCase({ ...bug, id: "demo-3" }, { findings: [] }, { findings: [{ rule: bug.rule, path: bug.path, line: 11 }] }),
      scoreCase(clean, null, { findings: [{ rule: bug.rule, path: bug.path, line: 12 }] }),
    ];
    const t = tally(outcomes);
    expect(t).toMatchObject({ bugs: 2, detected: 1, cleanVersions: 3, falseAlarms: 2 });
    expect(t.recall).toBe(0.5);
    expect(t.precision).toBeCloseTo(1 / 3);
    expect(tally([]).recall).toBeNull();
  });

  it("rejects a repository split across dev and holdout and malformed shas", () => {
    const problems = validateCases([bug, { ...bug, id: "demo-4", set: "holdout" }, { ...bug, id: "demo-5", repo: "x/y", fix_commit: "abc" }]);
    expect(problems.some((p) => p.includes("in both dev and holdout"))).toBe(true);
    expect(problems.some((p) => p.includes("fix_commit must be a full sha"))).toBe(true);
    expect(validateCases([bug])).toEqual([]);
  });

  it("accepts the holdout2 set but keeps its repositories out of the other sets", () => {
    expect(validateCases([bug, { ...bug, id: "demo-6", repo: "other/repo", set: "holdout2" }])).toEqual([]);
    const split = validateCases([bug, { ...bug, id: "demo-7", set: "holdout2" }]);
    expect(split.some((p) => p.includes("in both dev and holdout2"))).toBe(true);
    const unknown = validateCases([{ ...bug, set: "holdout7" as CorpusCase["set"] }]);
    expect(unknown.some((p) => p.includes("set must be one of dev, holdout, holdout2, holdout3, holdout4, holdout5, holdout6"))).toBe(true);
  });

  it("accepts the holdout3 set but keeps its repositories out of the other sets", () => {
    expect(validateCases([bug, { ...bug, id: "demo-8", repo: "third/repo", set: "holdout3" }])).toEqual([]);
    const split = validateCases([{ ...bug, set: "holdout2" }, { ...bug, id: "demo-9", set: "holdout3" }]);
    expect(split.some((p) => p.includes("in both holdout2 and holdout3"))).toBe(true);
  });
});
