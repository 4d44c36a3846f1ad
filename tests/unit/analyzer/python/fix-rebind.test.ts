import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyEdits } from "../../../../lib/analyzer/fix/apply-edits.ts";
import { scan } from "../../../../lib/analyzer/index.ts";

// A close followed by a rebind of the same name (`conn.close(); conn = sqlite3.connect(other)`):
// a block fix that ran to the end of the block would drop the first close and close only the
// second connection. The block fix ends at the code's own first release, and any use of the
// name after that (the rebind included) means no fix.
const scratch = mkdtempSync(join(tmpdir(), "poolguard-py-rebind-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;

async function findingsOf(text: string) {
  const root = join(scratch, `case-${n++}`);
  mkdirSync(join(root, "app"), { recursive: true });
  writeFileSync(join(root, "app", "copy.py"), text);
  const result = await scan({ root, jobs: 1 });
  expect(result.errors).toEqual([]);
  return result.findings.filter((f) => f.rule === "connection-not-closed");
}

describe("Python block fixes and a name rebound after its close", () => {
  it("offers no safe fix for the first connection when the name is rebound after the close", async () => {
    const text = [
      "import sqlite3",
      "",
      "",
      "def copy(path, other):",
      "    conn = sqlite3.connect(path)",
      "    rows = conn.execute('SELECT id FROM t').fetchall()",
      "    conn.close()",
      "    conn = sqlite3.connect(other)",
      "    conn.executemany('INSERT INTO t VALUES (?)', rows)",
      "    conn.close()",
      "",
    ].join("\n");
    const findings = await findingsOf(text);
    const first = findings.find((f) => f.line === 5);
    expect(first, "the first connection leaks when the query raises").toBeDefined();
    expect(first?.fix?.safety).not.toBe("safe");
    // Whatever fix any finding carries keeps both closes.
    for (const finding of findings) {
      if (!finding.fix) continue;
      const fixed = applyEdits(text, finding.fix.edits);
      expect(fixed.split("\n").filter((line) => line.includes(".close()")).length).toBeGreaterThanOrEqual(2);
    }
  });

  it("keeps the safe fix for the plain shape, ending at the code's own close", async () => {
    const text = [
      "import sqlite3",
      "",
      "",
      "def count(path):",
      "    conn = sqlite3.connect(path)",
      "    rows = conn.execute('SELECT id FROM t').fetchall()",
      "    conn.close()",
      "    return len(rows)",
      "",
    ].join("\n");
    const findings = await findingsOf(text);
    expect(findings).toHaveLength(1);
    expect(findings[0].fix?.safety).toBe("safe");
    const fixed = applyEdits(text, findings[0].fix!.edits);
    expect(fixed).toBe(
      [
        "import sqlite3",
        "",
        "",
        "def count(path):",
        "    conn = sqlite3.connect(path)",
        "    try:",
        "        rows = conn.execute('SELECT id FROM t').fetchall()",
        "    finally:",
        "        conn.close()",
        "    return len(rows)",
        "",
      ].join("\n"),
    );
  });
});
