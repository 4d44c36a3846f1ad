import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";

// A project helper that returns a connection on some paths and None on others: a
// `finally: db.close()` (or `with closing(...)`) added by a fix would raise on the None
// path where the code returned quietly, so such fixes are never "safe".
const scratch = mkdtempSync(join(tmpdir(), "poolguard-py-maybe-none-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const helpers = [
  "import sqlite3",
  "",
  "",
  "def open_maybe(path):",
  "    try:",
  "        return sqlite3.connect(path)",
  "    except sqlite3.OperationalError:",
  "        return None",
  "",
  "",
  "def open_always(path):",
  "    return sqlite3.connect(path)",
  "",
  "",
  "def first_maybe(path):",
  "    db = open_maybe(path)",
  '    return db.execute("SELECT 1").fetchone()',
  "",
  "",
  "def first_always(path):",
  "    db = open_always(path)",
  '    return db.execute("SELECT 1").fetchone()',
  "",
  "",
  "def with_maybe(path):",
  "    with open_maybe(path) as db:",
  '        return db.execute("SELECT 1").fetchone()',
  "",
].join("\n");

describe("fixes for a connection from a helper that may return None", () => {
  it("are unsafe, while the same fix for a helper that always returns one stays safe", async () => {
    const root = join(scratch, "project");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "probe.py"), helpers);
    const result = await scan({ root, jobs: 1 });
    expect(result.errors).toEqual([]);
    const byLine = new Map(result.findings.filter((f) => f.rule === "connection-not-closed").map((f) => [f.line, f]));
    expect([...byLine.keys()].sort((a, b) => a - b)).toEqual([16, 21, 26]);
    expect(byLine.get(16)?.fix?.safety).toBe("unsafe");
    expect(byLine.get(21)?.fix?.safety).toBe("safe");
    expect(byLine.get(26)?.fix?.safety ?? "unsafe").toBe("unsafe");
  });
});
