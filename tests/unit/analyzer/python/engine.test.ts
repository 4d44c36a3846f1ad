import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../../../../lib/analyzer/config/load-config.ts";
import { scan } from "../../../../lib/analyzer/index.ts";
import { buildPythonIndex } from "../../../../lib/analyzer/python/build-index.ts";
import type { AnalyzeOptions, Finding } from "../../../../lib/analyzer/types.ts";

// The Python front end on the shared engine: summaries, the index, and fixes that are
// safe only by proof (the model lists the protocol, nobody else owns the value, no path
// closes it twice).
const scratch = mkdtempSync(join(tmpdir(), "poolguard-py-engine-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;

async function scanFiles(files: Record<string, string>): Promise<Finding[]> {
  const root = join(scratch, `case-${n++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const result = await scan({ root, jobs: 1 });
  expect(result.errors).toEqual([]);
  return result.findings;
}

const options = (): AnalyzeOptions => ({ config: defaultConfig(), enabledRules: new Set() });

describe("summaries in the index", () => {
  it("wrappers return fresh resources, helpers release their argument, memoised functions do not", () => {
    const index = buildPythonIndex(
      [
        {
          path: "app/db.py",
          text: [
            "from functools import lru_cache",
            "from sqlalchemy import create_engine",
            "engine = create_engine('sqlite://')",
            "def get_conn():",
            "    return engine.connect()",
            "def release(conn):",
            "    conn.close()",
            "@lru_cache",
            "def shared():",
            "    return create_engine('sqlite://')",
            "def keep(conn, registry):",
            "    registry.append(conn)",
          ].join("\n"),
        },
      ],
      options(),
    );
    expect(index.summaries["app.db.get_conn"]).toMatchObject({ returnsFresh: "sqlalchemy.engine.Connection", alwaysFresh: true });
    expect(index.summaries["app.db.release"]).toMatchObject({ releasesParams: [0], takesParams: [] });
    expect(index.summaries["app.db.shared"]).toMatchObject({ memoised: true });
    expect(index.summaries["app.db.keep"]).toMatchObject({ takesParams: [0] });
    // The index crosses worker threads.
    expect(structuredClone(index)).toEqual(index);
  });
});

describe("fixes safe by proof", () => {
  it("a sessionmaker returned by a helper is not a session", async () => {
    const findings = await scanFiles({
      "app.py": [
        "from sqlalchemy.orm import sessionmaker",
        "def _get_session_maker(url):",
        "    return sessionmaker()",
        "def count(url):",
        "    maker = _get_session_maker(url)",
        "    session = maker()",
        "    try:",
        "        return session.execute('SELECT 1').scalar_one()",
        "    finally:",
        "        session.close()",
        "",
      ].join("\n"),
    });
    expect(findings).toEqual([]);
  });

  it("sessionmaker(class_=AsyncSession) sessions get async with", async () => {
    const findings = await scanFiles({
      "app.py": [
        "from sqlalchemy.ext.asyncio import AsyncSession",
        "from sqlalchemy.orm import sessionmaker",
        "SessionLocal = sessionmaker(class_=AsyncSession)",
        "async def count():",
        "    session = SessionLocal()",
        "    result = await session.execute('SELECT 1')",
        "    return result.scalar_one()",
        "",
      ].join("\n"),
    });
    expect(findings).toHaveLength(1);
    expect(findings[0].fix?.safety).toBe("safe");
    expect(findings[0].fix?.edits[0].text).toBe("async with SessionLocal() as session:");
  });

  it("a sqlite3 connection is never wrapped in with (its with does not close)", async () => {
    const findings = await scanFiles({
      "app.py": ["import sqlite3", "def rows(path):", "    conn = sqlite3.connect(path)", "    return conn.execute('SELECT 1').fetchall()", ""].join("\n"),
    });
    expect(findings.map((f) => f.rule)).toEqual(["connection-not-closed"]);
    expect(findings[0].fix?.description).toContain("finally");
    expect(findings[0].fix?.edits.map((e) => e.text).join("")).not.toContain("with ");
  });

  it("a close that would run a second time makes the fix unsafe", async () => {
    const findings = await scanFiles({
      "app.py": [
        "from sqlalchemy.orm import Session",
        "def work(engine):",
        "    session = Session(engine)",
        "    try:",
        "        session.execute('SELECT 1')",
        "    except ValueError:",
        "        session.close()",
        "        raise",
        "    session.close()",
        "",
      ].join("\n"),
    });
    expect(findings).toHaveLength(1);
    expect(findings[0].fix?.safety).toBe("unsafe");
  });

  it("a session whose ORM objects are returned gets no safe fix", async () => {
    const findings = await scanFiles({
      "app.py": ["from sqlalchemy.orm import Session", "def load(engine, item_id):", "    session = Session(engine)", "    item = session.get(Item, item_id)", "    return item", ""].join("\n"),
    });
    expect(findings).toHaveLength(1);
    expect(findings[0].fix?.safety).toBe("unsafe");
  });

  it("a connection handed to a project object that keeps it is not a leak", async () => {
    const findings = await scanFiles({
      "app.py": [
        "import asyncpg",
        "class Repository:",
        "    def __init__(self, conn):",
        "        self.conn = conn",
        "async def open_repository(dsn):",
        "    conn = await asyncpg.connect(dsn)",
        "    repo = Repository(conn)",
        "    await conn.execute('SELECT 1')",
        "    return repo",
        "",
      ].join("\n"),
    });
    expect(findings).toEqual([]);
  });

  it("await greenlet_spawn(conn.close) in finally is a close", async () => {
    const findings = await scanFiles({
      "app.py": [
        "from sqlalchemy.util import greenlet_spawn",
        "async def work(engine):",
        "    conn = engine.connect()",
        "    try:",
        "        conn.execute('SELECT 1')",
        "    finally:",
        "        await greenlet_spawn(conn.close)",
        "",
      ].join("\n"),
    });
    expect(findings).toEqual([]);
  });

  it("the with block ends at the code's own close", async () => {
    const findings = await scanFiles({
      "app.py": ["from sqlalchemy.orm import Session", "def names(engine):", "    session = Session(engine)", "    rows = session.execute('SELECT 1').all()", "    session.close()", "    return notify(rows)", ""].join("\n"),
    });
    expect(findings).toHaveLength(1);
    const edits = findings[0].fix?.edits ?? [];
    expect(edits.map((e) => e.start.line)).toEqual([3, 4, 5]);
    expect(edits[2].text).toBe("");
  });
});
