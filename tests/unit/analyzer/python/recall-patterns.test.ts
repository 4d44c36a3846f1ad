import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";
import { mixesTabsAndSpaces } from "../../../../lib/analyzer/python/fixes.ts";
import { isLogCall, ownershipFlags } from "../../../../lib/analyzer/python/flow/lower.ts";
import { parsePython } from "../../../../lib/analyzer/python/parse.ts";

// Shapes of real leaks the Python front end follows (transaction-only `with`, ownership
// flags, log lines before a `try`) and the per-file warning for functions too large to follow.
const scratch = mkdtempSync(join(tmpdir(), "poolguard-py-recall-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;

async function scanFiles(files: Record<string, string>) {
  const root = join(scratch, `case-${n++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const result = await scan({ root, jobs: 1 });
  expect(result.errors).toEqual([]);
  return result;
}

function firstFunction(source: string) {
  const fn = parsePython(source).rootNode.descendantsOfType("function_definition")[0];
  if (!fn) throw new Error("no function in source");
  return fn;
}

describe("transaction-only context managers", () => {
  it("`with sqlite3.connect(p) as conn` leaks; contextlib.closing around it does not", async () => {
    const { findings } = await scanFiles({
      "a.py": [
        "import sqlite3",
        "from contextlib import closing",
        "def bad(p):",
        "    with sqlite3.connect(p) as conn:",
        "        return conn.execute('SELECT 1').fetchall()",
        "def good(p):",
        "    with closing(sqlite3.connect(p)) as conn, conn:",
        "        return conn.execute('SELECT 1').fetchall()",
        "",
      ].join("\n"),
    });
    expect(findings.map((f) => [f.rule, f.line])).toEqual([["connection-not-closed", 4]]);
    expect(findings[0].message).toContain("only commits or rolls back");
  });
});

describe("ownership flags", () => {
  it("maps a flag set after an acquisition, or from a None test, to the names it vouches for", () => {
    const fn = firstFunction(
      [
        "def f(conn=None, other=None):",
        "    close_conn = False",
        "    if conn is None:",
        "        conn = connect()",
        "        close_conn = True",
        "    opened = other is None",
        "    if opened:",
        "        other = connect()",
        "    unrelated = True",
        "",
      ].join("\n"),
    );
    const flags = ownershipFlags(fn);
    expect(flags.get("close_conn")).toEqual(["conn"]);
    expect(flags.get("opened")).toEqual(["other"]);
    expect(flags.has("unrelated")).toBe(false);
  });
});

describe("log calls", () => {
  it("a log line with plain arguments is not an exception path; one that queries is", () => {
    const call = (text: string) => {
      const expr = parsePython(`${text}\n`).rootNode.namedChildren[0]?.namedChildren[0];
      if (!expr) throw new Error("no expression");
      return expr;
    };
    expect(isLogCall(call("_log.info('n=' + str(len(rows)))"))).toBe(true);
    expect(isLogCall(call("logger.debug('%s', name)"))).toBe(true);
    expect(isLogCall(call("self.logger.warning('x {}'.format(n))"))).toBe(true);
    expect(isLogCall(call("print('done')"))).toBe(true);
    expect(isLogCall(call("_log.info('rows %s', conn.execute('SELECT 1').fetchall())"))).toBe(false);
    expect(isLogCall(call("session.info('x')"))).toBe(false);
    expect(isLogCall(call("notify('x')"))).toBe(false);
  });
});

describe("functions too large to analyse", () => {
  it("are reported as a warning for the file, and the rest of the file is still analysed", async () => {
    const lines = ["from sqlalchemy.orm import Session", "", "def huge(engine):", "    s = Session(engine)"];
    for (let i = 0; i < 20_100; i++) lines.push("    s.a()");
    lines.push("    s.close()", "", "def small(engine):", "    s = Session(engine)", "    s.execute(1)", "");
    const result = await scanFiles({ "big.py": lines.join("\n") });
    expect(result.warnings).toEqual([{ path: "big.py", line: 3, message: expect.stringContaining("function `huge` is too large to analyse") }]);
    expect(result.findings.map((f) => [f.rule, f.line])).toEqual([["session-not-closed", lines.length - 2]]);
  }, 30_000);
});

describe("mixed tab and space indentation", () => {
  const generator = (bodyIndent: string[]) =>
    [
      "from app.db import SessionLocal",
      "",
      "def get_db():",
      `${bodyIndent[0]}db = SessionLocal()`,
      `${bodyIndent[1]}yield db`,
      `${bodyIndent[2]}db.commit()`,
      "",
    ].join("\n");
  const db = "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n";

  it("detects mixing within the given rows only", () => {
    expect(mixesTabsAndSpaces(["def f():", "\tx = 1", "    y = 2"], 0, 2)).toBe(true);
    expect(mixesTabsAndSpaces(["def f():", "\tx = 1", "\ty = 2", "    z = 3"], 0, 2)).toBe(false);
    expect(mixesTabsAndSpaces(["def f():", " \tx = 1"], 0, 1)).toBe(true);
  });

  it("session-dependency-not-closed offers no fix when the generator mixes tabs and spaces", async () => {
    // Legal Python (consistent at every tab size), but a `finally:` body added with either unit would not be.
    const mixed = ["from app.db import SessionLocal", "", "def get_db():", "    db = SessionLocal()", "    try:", "    \tyield db", "    except Exception:", "    \tdb.rollback()", "    \traise", ""].join("\n");
    const { findings } = await scanFiles({ "app/__init__.py": "", "app/db.py": db, "app/deps.py": mixed });
    const dependency = findings.filter((f) => f.rule === "session-dependency-not-closed");
    expect(dependency).toHaveLength(1);
    expect(dependency[0].fix).toBeNull();
  });

  it("still offers the safe fix with the function's own unit when it uses tabs only", async () => {
    const { findings } = await scanFiles({ "app/__init__.py": "", "app/db.py": `${db}def other():\n    return 1\n`, "app/deps.py": generator(["\t", "\t", "\t"]) });
    const dependency = findings.find((f) => f.rule === "session-dependency-not-closed");
    expect(dependency?.fix?.safety).toBe("safe");
    const added = dependency?.fix?.edits.map((e) => e.text).join("") ?? "";
    expect(added).toContain("\ttry:");
    expect(added).not.toMatch(/ {4}/);
  });
});
