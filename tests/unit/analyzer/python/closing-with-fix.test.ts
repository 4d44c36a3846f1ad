import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyEdits } from "../../../../lib/analyzer/fix/apply-edits.ts";
import { scan } from "../../../../lib/analyzer/index.ts";

// `with sqlite3.connect(path) as conn:` only commits or rolls back at exit. The fix keeps
// that `with` and closes: `with contextlib.closing(sqlite3.connect(path)) as conn, conn:`,
// using the file's own import of contextlib / closing, else adding `import contextlib` to
// the file's imports. Every other line stays byte-identical; unsure shapes get no fix.
// (tests/integration/fixes/python-closing-with.test.ts runs the programs on real databases.)
const scratch = mkdtempSync(join(tmpdir(), "poolguard-py-closing-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;

async function withFinding(text: string) {
  const root = join(scratch, `case-${n++}`);
  mkdirSync(join(root, "app"), { recursive: true });
  writeFileSync(join(root, "app", "store.py"), text);
  const result = await scan({ root, jobs: 1 });
  expect(result.errors).toEqual([]);
  const found = result.findings.filter((f) => f.rule === "connection-not-closed");
  expect(found, text).toHaveLength(1);
  return { finding: found[0], root };
}

const body = ["", "", "def save(path, rows):", "    with sqlite3.connect(path) as conn:", '        conn.executemany("INSERT INTO t VALUES (?)", rows)', "    return len(rows)", ""];

describe("connection-not-closed fix for a `with` that only ends the transaction", () => {
  it("adds `import contextlib` in alphabetical place among the plain imports and changes only the `with` line", async () => {
    const text = ["import os", "import sqlite3", "import sys", "from typing import Any", ...body].join("\n");
    const { finding } = await withFinding(text);
    expect(finding.fix?.safety).toBe("safe");
    const fixed = applyEdits(text, finding.fix!.edits);
    expect(fixed).toBe(
      [
        "import contextlib",
        "import os",
        "import sqlite3",
        "import sys",
        "from typing import Any",
        "",
        "",
        "def save(path, rows):",
        "    with contextlib.closing(sqlite3.connect(path)) as conn, conn:",
        '        conn.executemany("INSERT INTO t VALUES (?)", rows)',
        "    return len(rows)",
        "",
      ].join("\n"),
    );
  });

  it("adds the import after the last plain import that sorts before it, keeping CRLF line ends", async () => {
    const text = ["import abc", "import asyncio", "", "import sqlite3", ...body].join("\r\n");
    const { finding } = await withFinding(text);
    const fixed = applyEdits(text, finding.fix!.edits);
    expect(fixed.split("\r\n").slice(0, 5)).toEqual(["import abc", "import asyncio", "import contextlib", "", "import sqlite3"]);
    expect(fixed).toContain("    with contextlib.closing(sqlite3.connect(path)) as conn, conn:\r\n");
  });

  it("uses the file's `from contextlib import closing` or `import contextlib` without adding an import", async () => {
    for (const [imports, wrapper] of [
      [["import sqlite3", "from contextlib import closing, suppress"], "closing"],
      [["import contextlib", "import sqlite3"], "contextlib.closing"],
      [["import contextlib as cl", "import sqlite3"], "cl.closing"],
    ] as const) {
      const text = [...imports, ...body].join("\n");
      const { finding } = await withFinding(text);
      const fixed = applyEdits(text, finding.fix!.edits);
      expect(fixed.split("\n").slice(0, imports.length)).toEqual([...imports]);
      expect(fixed.split("\n").length).toBe(text.split("\n").length);
      expect(fixed).toContain(`    with ${wrapper}(sqlite3.connect(path)) as conn, conn:\n`);
    }
  });

  it("compiles, and the fixed file is no longer reported", async () => {
    const text = ["import sqlite3", ...body].join("\n");
    const { root } = await withFinding(text);
    const after = await scan({ root, jobs: 1, fix: "safe", writeFixes: true });
    expect(after.fixes?.dropped ?? []).toEqual([]);
    const file = join(root, "app", "store.py");
    execFileSync("/usr/bin/python3", ["-m", "py_compile", file]);
    expect(readFileSync(file, "utf8")).toContain("with contextlib.closing(sqlite3.connect(path)) as conn, conn:");
    const rescan = await scan({ root, jobs: 1 });
    expect(rescan.findings.filter((f) => f.rule === "connection-not-closed")).toEqual([]);
  });

  it("is unsafe for pyodbc, whose before/after programs are not run here", async () => {
    const text = ["import pyodbc", "", "", "def save(dsn, rows):", "    with pyodbc.connect(dsn) as conn:", '        conn.execute("INSERT INTO t VALUES (?)", rows[0])', ""].join("\n");
    const { finding } = await withFinding(text);
    expect(finding.fix?.safety).toBe("unsafe");
  });

  it("offers no fix when unsure", async () => {
    const shapes: [string, string[]][] = [
      ["the connection is used after the block", ["    with sqlite3.connect(path) as conn:", "        conn.execute('SELECT 1')", "    return conn.total_changes"]],
      ["the connection is returned from the block", ["    with sqlite3.connect(path) as conn:", "        conn.execute('SELECT 1')", "        return conn"]],
      ["a cursor is returned from the block", ["    with sqlite3.connect(path) as conn:", "        return conn.execute('SELECT 1')"]],
      ["no `as` name", ["    with sqlite3.connect(path):", "        pass"]],
      ["the name is rebound in the block", ["    with sqlite3.connect(path) as conn:", "        conn.execute('SELECT 1')", "        conn = None"]],
      ["a closure captures the connection", ["    with sqlite3.connect(path) as conn:", "        run = lambda: conn.execute('SELECT 1')", "        run()"]],
    ];
    for (const [why, lines] of shapes) {
      const text = ["import sqlite3", "", "", "def save(path):", ...lines, ""].join("\n");
      const root = join(scratch, `case-${n++}`);
      mkdirSync(join(root, "app"), { recursive: true });
      writeFileSync(join(root, "app", "store.py"), text);
      const result = await scan({ root, jobs: 1 });
      const fixes = result.findings.filter((f) => f.rule === "connection-not-closed" && f.line === 5).map((f) => f.fix);
      for (const fix of fixes) expect(fix, why).toBeNull();
    }
  });

  it("keeps the fix when the block returns rows already read (`fetchall()`)", async () => {
    const text = ["import sqlite3", "", "", "def read(path):", "    with sqlite3.connect(path) as conn:", "        return conn.execute('SELECT x FROM t').fetchall()", ""].join("\n");
    const { finding } = await withFinding(text);
    expect(finding.fix?.safety).toBe("safe");
    expect(applyEdits(text, finding.fix!.edits)).toContain("    with contextlib.closing(sqlite3.connect(path)) as conn, conn:\n        return conn.execute('SELECT x FROM t').fetchall()\n");
  });

  it("offers no fix for a `with` of several items", async () => {
    const text = ["import sqlite3", "", "", "def copy(a, b):", "    with sqlite3.connect(a) as src, sqlite3.connect(b) as dst:", "        dst.executemany('INSERT INTO t VALUES (?)', src.execute('SELECT x FROM t'))", ""].join("\n");
    const root = join(scratch, `case-${n++}`);
    mkdirSync(join(root, "app"), { recursive: true });
    writeFileSync(join(root, "app", "store.py"), text);
    const result = await scan({ root, jobs: 1 });
    const found = result.findings.filter((f) => f.rule === "connection-not-closed");
    expect(found.length).toBeGreaterThan(0);
    for (const f of found) expect(f.fix).toBeNull();
  });
});
