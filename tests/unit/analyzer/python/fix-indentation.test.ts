import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";

// tree-sitter accepts some indentation Python rejects ("unexpected indent") and still builds a
// block from it. A block fix re-indents lines by the tree, so where tree and text disagree the
// moved lines could land in another block: no safe fix is offered there.
const scratch = mkdtempSync(join(tmpdir(), "poolguard-py-indent-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;

async function connectionFinding(body: string[]) {
  const root = join(scratch, `case-${n++}`);
  mkdirSync(join(root, "app"), { recursive: true });
  const text = ["import sqlite3", "", "", "def open_local(path):", "    conn = sqlite3.connect(path)", ...body, ""].join("\n");
  writeFileSync(join(root, "app", "local.py"), text);
  const result = await scan({ root, jobs: 1 });
  expect(result.errors).toEqual([]);
  const finding = result.findings.find((f) => f.rule === "connection-not-closed");
  if (!finding) throw new Error(`no connection-not-closed finding in:\n${text}`);
  return finding;
}

describe("Python block fixes and indentation the parser tolerates", () => {
  it("offers the safe fix when every moved statement sits at the acquisition's indentation", async () => {
    const finding = await connectionFinding(["    rows = conn.execute('SELECT 1').fetchall()", "    return rows"]);
    expect(finding.fix?.safety).toBe("safe");
  });

  it("offers no safe fix when a statement after the acquisition has an unexpected indent", async () => {
    const finding = await connectionFinding(["    ", "        rows = conn.execute('SELECT 1').fetchall()", "        return rows"]);
    expect(finding.fix?.safety).not.toBe("safe");
  });
});
