import { describe, expect, it } from "vitest";
import type { Finding } from "../../../lib/analyzer/index.ts";
import { classifyFindings, conclusionFor, fenceFor, parseFailOn, suggestionFor } from "../../../lib/github-bot/analysis.ts";
import { hunkFor, parsePatch } from "../../../lib/github-bot/diff.ts";
import { findingMarker, parseFindingMarker } from "../../../lib/github-bot/markers.ts";
import { annotationBatches, summaryFor } from "../../../lib/github-bot/report.ts";
import { verifySignature } from "../../../lib/github-bot/signature.ts";
import { claimPullRequest } from "../../../lib/github-bot/supersede.ts";

function finding(over: Partial<Finding> = {}): Finding {
  return { rule: "session-not-closed", severity: "warning", message: "leak", path: "app/a.py", line: 2, column: 5, end_line: 2, end_column: 10, fingerprint: "fp1", suppressed: false, fix: null, ...over };
}

describe("webhook signatures", () => {
  it("accept GitHub's published test vector and refuse anything else", () => {
    const secret = "It's a Secret to Everybody";
    const good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    expect(verifySignature(secret, "Hello, World!", good)).toBe(true);
    expect(verifySignature(secret, "Hello, World!", good.toUpperCase().replace("SHA256", "sha256"))).toBe(true);
    expect(verifySignature(secret, "Hello, World!!", good)).toBe(false);
    expect(verifySignature("other", "Hello, World!", good)).toBe(false);
    expect(verifySignature(secret, "Hello, World!", null)).toBe(false);
    expect(verifySignature(secret, "Hello, World!", "sha1=757107ea")).toBe(false);
    expect(verifySignature(undefined, "Hello, World!", good)).toBe(false);
  });
});

describe("diff anchors", () => {
  const patch = "@@ -1,3 +1,4 @@\n a\n+b\n c\n d\n@@ -20,2 +21,3 @@\n x\n+y\n z";
  it("know the lines of each hunk and refuse a range across hunks or outside the diff", () => {
    const file = { path: "f.py", status: "modified", hunks: parsePatch("f.py", patch) };
    expect(file.hunks).toHaveLength(2);
    expect(hunkFor(file, 1, 4)).not.toBeNull();
    expect(hunkFor(file, 21, 23)).not.toBeNull();
    expect(hunkFor(file, 4, 21)).toBeNull();
    expect(hunkFor(file, 10, 10)).toBeNull();
    expect(hunkFor(undefined, 1, 1)).toBeNull();
  });
});

describe("suggestions", () => {
  const text = "import x\nsession = Session()\nsession.run()\n";
  const fix = { safety: "safe" as const, description: "use with", edits: [{ path: "app/a.py", start: { line: 2, column: 1 }, end: { line: 2, column: 20 }, text: "with Session() as session:" }, { path: "app/a.py", start: { line: 3, column: 1 }, end: { line: 3, column: 1 }, text: "    " }] };
  const diff = { path: "app/a.py", status: "added", hunks: parsePatch("app/a.py", "@@ -0,0 +1,3 @@\n+import x\n+session = Session()\n+session.run()") };
  it("replace exactly the lines the safe fix touches", () => {
    expect(suggestionFor(finding({ fix }), text, diff)).toEqual({ path: "app/a.py", startLine: 2, line: 3, replacement: "with Session() as session:\n    session.run()" });
  });
  it("are not made for unsafe fixes, fixes in other files, or lines outside the diff", () => {
    expect(suggestionFor(finding({ fix: { ...fix, safety: "unsafe" } }), text, diff)).toBeNull();
    expect(suggestionFor(finding({ fix: { ...fix, edits: [{ ...fix.edits[0], path: "other.py" }] as typeof fix.edits } }), text, diff)).toBeNull();
    const partial = { ...diff, hunks: parsePatch("app/a.py", "@@ -1,2 +1,2 @@\n import x\n-s\n+session = Session()") };
    expect(suggestionFor(finding({ fix }), text, partial)).toBeNull();
  });
  it("use a fence longer than any backtick run in the replacement", () => {
    expect(fenceFor("plain")).toBe("```");
    expect(fenceFor("a ```` b")).toBe("`````");
  });
});

describe("classification and conclusion", () => {
  it("marks findings new or pre-existing by fingerprint, only in changed files, and lists what the pull request fixed", () => {
    const head = [finding({ fingerprint: "a" }), finding({ fingerprint: "b", severity: "error" }), finding({ fingerprint: "c", path: "untouched.py" })];
    const base = [finding({ fingerprint: "a" }), finding({ fingerprint: "gone" })];
    const result = classifyFindings({ head, base, changedPaths: ["app/a.py"] });
    expect(result.findings.map((f) => [f.fingerprint, f.status])).toEqual([
      ["b", "new"],
      ["a", "pre-existing"],
    ]);
    expect(result.fixed.map((f) => f.fingerprint)).toEqual(["gone"]);
  });
  it("fails on new findings at the threshold, is neutral with only pre-existing ones, succeeds with none", () => {
    const fresh = { ...finding(), status: "new" as const };
    const old = { ...finding(), status: "pre-existing" as const };
    expect(conclusionFor([fresh], "warning")).toBe("failure");
    expect(conclusionFor([fresh], "error")).toBe("neutral");
    expect(conclusionFor([fresh], "never")).toBe("neutral");
    expect(conclusionFor([old], "info")).toBe("neutral");
    expect(conclusionFor([], "info")).toBe("success");
    expect(parseFailOn("bogus")).toBe("warning");
  });
});

describe("check run output", () => {
  it("batches annotations by 50, most severe first, capped, and fits the summary in 65,535 bytes", () => {
    const findings = Array.from({ length: 620 }, (_, i) => ({ ...finding({ fingerprint: `f${i}`, line: i + 1, end_line: i + 1, severity: i % 3 === 0 ? "error" : "info", message: "é".repeat(300) }), status: "new" as const }));
    findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1));
    const batches = annotationBatches(findings);
    expect(batches.map((b) => b.length)).toEqual([50, 50, 50, 50, 50, 50, 50, 50, 50, 50]);
    expect(batches[0]?.[0]?.annotation_level).toBe("failure");
    expect(batches[0]?.[0]).toMatchObject({ start_column: 5, end_column: 10 });
    const summary = summaryFor({ findings, fixed: [], failOn: "warning", annotated: 500, suggested: 0, baseUrl: "https://p.test", repositoryId: "r1" });
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(65_535);
    expect(summary).toContain("120 more not annotated");
    expect(summary).toContain("https://p.test/findings?repository=r1&rule=session-not-closed&path=app%2Fa.py&status=any");
  });
  it("finds its own markers again", () => {
    expect(parseFindingMarker(`text\n\n${findingMarker("abc123")}`)).toBe("abc123");
    expect(parseFindingMarker("no marker")).toBeNull();
  });
});

describe("superseding", () => {
  it("aborts the work on an older head when a newer head of the same pull request arrives", () => {
    const first = claimPullRequest("acme/shop#1", "a".repeat(40));
    const same = claimPullRequest("acme/shop#1", "a".repeat(40));
    expect(first.signal.aborted).toBe(false);
    const second = claimPullRequest("acme/shop#1", "b".repeat(40));
    expect(first.signal.aborted).toBe(true);
    expect(same.signal.aborted).toBe(true);
    expect(second.signal.aborted).toBe(false);
    const other = claimPullRequest("acme/shop#2", "a".repeat(40));
    expect(other.signal.aborted).toBe(false);
    second.release();
    other.release();
  });
});
