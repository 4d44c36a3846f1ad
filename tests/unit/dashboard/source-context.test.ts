import { describe, expect, it } from "vitest";
import { contextLines, isCutLine, maxContextChars, maxFlaggedLines, maxLineChars, sourceContext } from "../../../lib/scan/source-context.ts";
import { contextFixDiff } from "../../../lib/ui/finding-source.ts";

// The code kept around a finding is bounded whatever the file looks like.

const file = (n: number, line = (i: number) => `line ${i}`) => Array.from({ length: n }, (_, i) => line(i + 1));

describe("sourceContext", () => {
  it("keeps a few lines either side of the flagged lines, within the file", () => {
    expect(sourceContext(file(100), 50, 51)).toEqual({ startLine: 50 - contextLines, text: file(100).slice(50 - contextLines - 1, 51 + contextLines).join("\n") });
    expect(sourceContext(file(5), 1, 1)).toEqual({ startLine: 1, text: file(5).join("\n") });
    expect(sourceContext(file(5), 9, 9)).toBeNull();
    expect(sourceContext([], 1, 1)).toBeNull();
  });

  it("cuts a long flagged range and long lines, and stays under the size limit", () => {
    const long = sourceContext(file(1000), 100, 900);
    expect(long?.text.split("\n")).toHaveLength(contextLines + maxFlaggedLines + contextLines);
    const minified = sourceContext(file(200, () => "x".repeat(50_000)), 100, 160);
    const lines = minified?.text.split("\n") ?? [];
    expect(lines.every((l) => l.length === maxLineChars + 1 && isCutLine(l))).toBe(true);
    expect(minified?.text.length).toBeLessThanOrEqual(maxContextChars);
    // Surrounding lines go first; every kept flagged line is still there.
    expect(minified?.startLine).toBeLessThanOrEqual(100);
    expect((minified?.startLine ?? 0) + lines.length - 1).toBeGreaterThanOrEqual(100 + maxFlaggedLines - 1);
    expect(isCutLine("short…")).toBe(false);
  });
});

describe("contextFixDiff", () => {
  const fix = (line: number) => ({ safety: "safe" as const, description: "close", edits: [{ path: "a.py", start: { line, column: 1 }, end: { line, column: 1 }, text: "    session.close()\n" }] });

  it("diffs inside the context with the file's line numbers", () => {
    const context = { startLine: 41, text: file(60).slice(40, 57).join("\n") };
    const diff = contextFixDiff("a.py", context, fix(50));
    expect(diff).toMatch(/^\+\+\+ b\/a\.py\n@@ -47,6 \+47,7 @@/);
    expect(diff).toContain("+    session.close()");
  });

  it("gives up when an edit is outside the context or on a cut line", () => {
    expect(contextFixDiff("a.py", { startLine: 41, text: file(60).slice(40, 57).join("\n") }, fix(70))).toBeNull();
    expect(contextFixDiff("b.py", { startLine: 41, text: file(60).slice(40, 57).join("\n") }, fix(50))).toBeNull();
    const cut = sourceContext(file(60, (i) => (i === 50 ? "y".repeat(1000) : `line ${i}`)), 50, 50);
    expect(contextFixDiff("a.py", cut, fix(50))).toBeNull();
  });
});
