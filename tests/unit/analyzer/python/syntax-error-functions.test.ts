import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";

// A file with a syntax error is reported in `errors`; the functions in it that parse whole
// are still checked (legacy Python 2 code often fails on one line only), their findings
// carry no fix, and a function that holds the error is not checked at all.

const root = mkdtempSync(join(tmpdir(), "poolguard-py-syntax-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

writeFileSync(
  join(root, "legacy.py"),
  [
    "from sqlalchemy.orm import sessionmaker",
    "from app.async import run_background",
    "",
    "",
    "def report(engine):",
    "    session = sessionmaker(bind=engine)()",
    "    return session.query(1).all()",
    "",
    "",
    "def broken(engine):",
    "    session = sessionmaker(bind=engine)()",
    "    return session.query(1).all(",
    "",
    "",
    "def fine(engine):",
    "    with sessionmaker(bind=engine)() as session:",
    "        return session.query(1).all()",
    "",
  ].join("\n"),
);

describe("a Python file with a syntax error", () => {
  it("is reported, and its whole functions are still checked without fixes", async () => {
    const result = await scan({ root, jobs: 1 });
    expect(result.errors).toEqual([{ path: "legacy.py", message: expect.stringMatching(/^syntax error at line 2\b/) }]);
    expect(result.findings.map((f) => [f.rule, f.line])).toEqual([["session-not-closed", 6]]);
    expect(result.findings[0]?.fix).toBeNull();
  });

  it("gives nothing but the error when the whole file is one broken statement", async () => {
    const only = mkdtempSync(join(tmpdir(), "poolguard-py-syntax-only-"));
    try {
      writeFileSync(join(only, "bad.py"), "from sqlalchemy.orm import sessionmaker\nsession = sessionmaker()(\n");
      const result = await scan({ root: only, jobs: 1 });
      expect(result.errors.map((e) => e.path)).toEqual(["bad.py"]);
      expect(result.findings).toEqual([]);
    } finally {
      rmSync(only, { recursive: true, force: true });
    }
  });
});
