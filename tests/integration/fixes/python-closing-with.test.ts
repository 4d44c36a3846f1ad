// The fix for `with sqlite3.connect(...) as conn:` / `with psycopg2.connect(...) as conn:`,
// whose `with` only ends the transaction: `with contextlib.closing(connect(...)) as conn, conn:`.
// Executed against the real libraries (Debian's python3 sqlite3 and psycopg2) and real
// databases: the original program leaves connections open (file descriptors on the SQLite
// file, backends in pg_stat_activity) when the block raises, the fixed one leaves none, and
// both commit the same rows on success and roll back the same rows on failure.
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresDatabase, postgresDatabase, sqliteFile } from "../../support/fix-programs/databases.ts";
import { executeFix, type FixCase, figures } from "../../support/fix-programs/execute-fix.ts";
import { python, runProgram, workspace } from "../../support/fix-programs/harness.ts";

let postgres: PostgresDatabase;

beforeAll(async () => {
  postgres = await postgresDatabase();
});
afterAll(async () => {
  await postgres?.drop();
});

const cases: (FixCase & { addsImport: boolean })[] = [
  { program: "python/connection_not_closed_sqlite3_with.py", rule: "connection-not-closed", function: "add_item", database: "sqlite", leaks: ["open_files"], addsImport: true },
  { program: "python/connection_not_closed_sqlite3_with_closing.py", rule: "connection-not-closed", function: "add_item", database: "sqlite", leaks: ["open_files"], addsImport: false },
  { program: "python/connection_not_closed_psycopg2_with.py", rule: "connection-not-closed", function: "add_item", database: "postgresql+psycopg2", leaks: ["server_connections"], addsImport: false },
];

describe("connection-not-closed: a `with` that only ends the transaction gets closing() plus the same `with`", () => {
  it.each(cases)("$program on $database", (c) => {
    const outcome = executeFix(c, postgres);
    expect(outcome.kind, "reported with a fix labelled safe").toBe("executed");
    if (outcome.kind !== "executed") return;
    // The one line the fix may change outside the function: the `import contextlib` it adds.
    const importLine = outcome.fixed.split("\n").indexOf("import contextlib") + 1;
    const problems = c.addsImport ? outcome.problems.filter((p) => p !== `lines changed outside ${c.function} (lines 7-11): ${importLine}`) : outcome.problems;
    expect(problems).toEqual([]);
    if (c.addsImport) {
      expect(importLine, "import contextlib added in the import block").toBe(2);
      expect(outcome.original.split("\n").slice(0, 3)).toEqual(['"""connection-not-closed: `with sqlite3.connect()` commits or rolls back, it does not close."""', "import sqlite3", ""]);
    }
    const header = c.addsImport ? "contextlib.closing(" : c.program.includes("_closing") ? "closing(" : "contextlib.closing(";
    expect(outcome.fixed).toContain(`with ${header}${c.database === "sqlite" ? "sqlite3.connect(SQLITE_PATH)" : "psycopg2.connect(PG_DSN)"}) as conn, conn:`);
    for (const measure of c.leaks) {
      expect(outcome.originalRun?.[measure], `${measure} after the original`).toBeGreaterThan(0);
      expect(outcome.fixedRun?.[measure], `${measure} after the fixed program`).toBe(0);
    }
    // Same committed rows: the two successful inserts kept, the three failed ones rolled back.
    const committed = (outcome.fixedRun?.results as unknown[] | undefined)?.at(-1);
    expect(committed).toEqual(["item 1", "item 2", "item 3", "new 0", "new 2"]);
    expect(outcome.fixedRun?.results).toEqual(outcome.originalRun?.results);
    console.log(`${c.program} on ${c.database}: ${figures(c, outcome)}`);
  });
});

describe("why the fix keeps the `with conn` beside closing()", () => {
  it("closing() alone closes the sqlite3 connection but drops the commit the original `with` did", () => {
    const ws = workspace("python/connection_not_closed_sqlite3_with_closing.py", ["python/fix_report.py"]);
    try {
      const closingOnly = readFileSync(ws.file, "utf8").replace("    with sqlite3.connect(SQLITE_PATH) as conn:", "    with closing(sqlite3.connect(SQLITE_PATH)) as conn:");
      expect(closingOnly).toContain("with closing(sqlite3.connect(SQLITE_PATH)) as conn:");
      writeFileSync(ws.file, closingOnly);
      const path = sqliteFile(ws.dir);
      const run = runProgram(python, [ws.file], { FIX_SQLITE_PATH: path }, ws.dir);
      expect(run.open_files).toBe(0);
      // The two successful inserts are lost: nothing committed them before the close.
      expect((run.results as unknown[]).at(-1)).toEqual(["item 1", "item 2", "item 3"]);
    } finally {
      ws.remove();
    }
  });
});
