import { describe, expect, it } from "vitest";
import { fingerprintFindings } from "../../../../lib/analyzer/engine/fingerprint.ts";
import { parseSuppressions } from "../../../../lib/analyzer/engine/suppressions.ts";
import type { RawFinding } from "../../../../lib/analyzer/types.ts";

const known = new Set(["session-not-closed", "manual-aenter"]);

describe("suppression comments", () => {
  it("cover the flagged line and the line after the comment", () => {
    const s = parseSuppressions(["x = 1  # poolguard: ignore[session-not-closed]", "# poolguard: ignore[manual-aenter]", "y = 2", "z = 3"], known);
    expect(s.isSuppressed("session-not-closed", 1)).toBe(true);
    expect(s.isSuppressed("manual-aenter", 1)).toBe(false);
    expect(s.isSuppressed("manual-aenter", 3)).toBe(true);
    expect(s.isSuppressed("manual-aenter", 4)).toBe(false);
  });

  it("support lists, bare ignores, // comments and file-wide ignores", () => {
    const s = parseSuppressions(["// poolguard: ignore-file[manual-aenter]", "a()", "b() // poolguard: ignore", "c() /* poolguard: ignore[session-not-closed, manual-aenter] */"], known);
    expect(s.isSuppressed("manual-aenter", 40)).toBe(true);
    expect(s.isSuppressed("session-not-closed", 2)).toBe(false);
    expect(s.isSuppressed("session-not-closed", 3)).toBe(true);
    expect(s.isSuppressed("session-not-closed", 4)).toBe(true);
  });

  it("reports unknown ids", () => {
    expect(parseSuppressions(["x  # poolguard: ignore[session-not-closd]"], known).unknown).toEqual([{ line: 1, id: "session-not-closd" }]);
  });
});

describe("fingerprints", () => {
  const finding = (line: number): RawFinding => ({
    rule: "session-not-closed",
    message: "m",
    start: { line, column: 5 },
    end: { line, column: 20 },
    fix: null,
    scope: "handler",
  });

  it("survive line shifts from unrelated edits", () => {
    const before = ["def handler():", "    session = SessionLocal()"];
    const after = ["import os", "", "def handler():", "    session = SessionLocal()"];
    expect(fingerprintFindings("a.py", after, [finding(4)])).toEqual(fingerprintFindings("a.py", before, [finding(2)]));
  });

  it("change when the flagged code, the rule's scope or the file changes", () => {
    const lines = ["def handler():", "    session = SessionLocal()"];
    const base = fingerprintFindings("a.py", lines, [finding(2)])[0];
    expect(fingerprintFindings("a.py", ["def handler():", "    s = SessionLocal()"], [finding(2)])[0]).not.toBe(base);
    expect(fingerprintFindings("b.py", lines, [finding(2)])[0]).not.toBe(base);
    expect(fingerprintFindings("a.py", lines, [{ ...finding(2), scope: "other" }])[0]).not.toBe(base);
  });

  it("tell identical findings in one file apart", () => {
    const lines = ["    session = SessionLocal()", "    session = SessionLocal()"];
    const [a, b] = fingerprintFindings("a.py", lines, [finding(1), finding(2)]);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{20}$/);
  });
});
