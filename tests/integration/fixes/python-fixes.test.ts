// Every fix kind the Python rules label safe, executed: the original program leaves
// connections checked out of a real pool (or open on a real server), the program fixed
// by `poolguard scan --fix` leaves none, prints the same results and raises the same
// errors, still compiles, and differs from the original only on the lines the fix edits.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresDatabase, postgresDatabase, sqlalchemyUrl, sqliteFile } from "../../support/fix-programs/databases.ts";
import {
  applyEdits,
  applySafeFixes,
  changedLines,
  functionLines,
  type ProgramRun,
  pyCompile,
  python,
  runProgram,
  scanJson,
  touchedLines,
  workspace,
} from "../../support/fix-programs/harness.ts";

type Database = "sqlite" | "sqlite+aiosqlite" | "postgresql+psycopg2" | "postgresql+asyncpg";

type PythonCase = {
  /** Program under tests/support/fix-programs/python. */
  program: string;
  rule: string;
  /** The function the fix must stay inside. */
  function: string;
  database: Database;
  /** The measurements that count leaked connections (printed by the program). */
  leaks: string[];
};

const cases: PythonCase[] = [
  { program: "session_not_closed_sync.py", rule: "session-not-closed", function: "count_rows", database: "sqlite", leaks: ["checked_out"] },
  { program: "session_not_closed_sync.py", rule: "session-not-closed", function: "count_rows", database: "postgresql+psycopg2", leaks: ["checked_out"] },
  { program: "session_not_closed_async.py", rule: "session-not-closed", function: "count_rows", database: "sqlite+aiosqlite", leaks: ["checked_out"] },
  { program: "session_not_closed_async.py", rule: "session-not-closed", function: "count_rows", database: "postgresql+asyncpg", leaks: ["checked_out"] },
  { program: "connection_not_closed_engine.py", rule: "connection-not-closed", function: "count_rows", database: "sqlite", leaks: ["checked_out"] },
  { program: "connection_not_closed_engine.py", rule: "connection-not-closed", function: "count_rows", database: "postgresql+psycopg2", leaks: ["checked_out"] },
  { program: "connection_not_closed_raw.py", rule: "connection-not-closed", function: "count_rows", database: "sqlite", leaks: ["checked_out"] },
  { program: "connection_not_closed_raw.py", rule: "connection-not-closed", function: "count_rows", database: "postgresql+psycopg2", leaks: ["checked_out"] },
  { program: "connection_not_closed_psycopg2.py", rule: "connection-not-closed", function: "count_rows", database: "postgresql+psycopg2", leaks: ["server_connections"] },
  { program: "connection_not_closed_asyncpg.py", rule: "connection-not-closed", function: "count_rows", database: "postgresql+asyncpg", leaks: ["server_connections"] },
  { program: "connection_not_closed_asyncpg_pool.py", rule: "connection-not-closed", function: "count_rows", database: "postgresql+asyncpg", leaks: ["checked_out"] },
  { program: "connection_not_closed_aiosqlite.py", rule: "connection-not-closed", function: "count_rows", database: "sqlite+aiosqlite", leaks: ["open_files", "driver_threads"] },
  { program: "session_dependency_async.py", rule: "session-dependency-not-closed", function: "get_session", database: "sqlite+aiosqlite", leaks: ["checked_out"] },
  { program: "session_dependency_async.py", rule: "session-dependency-not-closed", function: "get_session", database: "postgresql+asyncpg", leaks: ["checked_out"] },
  { program: "session_dependency_sync.py", rule: "session-dependency-not-closed", function: "get_db", database: "sqlite", leaks: ["checked_out"] },
  { program: "session_dependency_sync.py", rule: "session-dependency-not-closed", function: "get_db", database: "postgresql+psycopg2", leaks: ["checked_out"] },
  { program: "session_used_after_close_async.py", rule: "session-used-after-close", function: "status", database: "sqlite+aiosqlite", leaks: ["checked_out"] },
  { program: "session_used_after_close_async.py", rule: "session-used-after-close", function: "status", database: "postgresql+asyncpg", leaks: ["checked_out"] },
  { program: "session_used_after_close_sync.py", rule: "session-used-after-close", function: "summary", database: "sqlite", leaks: ["checked_out"] },
  { program: "session_used_after_close_sync.py", rule: "session-used-after-close", function: "summary", database: "postgresql+psycopg2", leaks: ["checked_out"] },
];

let postgres: PostgresDatabase;
let appCounter = 0;

beforeAll(async () => {
  postgres = await postgresDatabase();
});
afterAll(async () => {
  await postgres?.drop();
});

function environment(database: Database, dir: string): Record<string, string> {
  const app = `poolguard-fix-${process.pid}-${++appCounter}`;
  if (database === "sqlite" || database === "sqlite+aiosqlite") {
    const path = sqliteFile(dir);
    return { FIX_DB_URL: `${database}:///${path}`, FIX_SQLITE_PATH: path, FIX_APP_NAME: app };
  }
  const driver = database === "postgresql+psycopg2" ? "psycopg2" : "asyncpg";
  return {
    FIX_DB_URL: sqlalchemyUrl(postgres, driver),
    FIX_PG_DSN: `${postgres.url}${postgres.url.includes("?") ? "&" : "?"}application_name=${app}`,
    FIX_APP_NAME: app,
  };
}

function run(file: string, dir: string, database: Database): ProgramRun {
  return runProgram(python, [file], environment(database, dir), dir);
}

describe("python fixes labelled safe, executed against the real libraries", () => {
  it.each(cases)("$rule: $program on $database", (c) => {
    const ws = workspace(`python/${c.program}`, ["python/fix_report.py"]);
    try {
      const before = scanJson(ws.dir);
      expect(before.errors).toEqual([]);
      const findings = before.findings.filter((f) => !f.suppressed);
      expect(findings.map((f) => [f.path, f.rule])).toEqual([[c.program, c.rule]]);
      const fix = findings[0].fix;
      expect(fix?.safety, "the fix is labelled safe").toBe("safe");
      if (!fix) return;

      const originalRun = run(ws.file, ws.dir, c.database);
      applySafeFixes(ws.dir);
      const fixed = readFileSync(ws.file, "utf8");
      expect(fixed, "--fix wrote exactly the edits the JSON offered").toBe(applyEdits(ws.original, fix.edits));

      // Untouched lines stay byte-identical, and the fix stays inside the function it fixes.
      const touched = touchedLines(fix.edits);
      for (const line of changedLines(ws.original, fixed)) expect(touched.has(line), `line ${line} changed outside the fix's edits`).toBe(true);
      const span = functionLines(ws.original, c.function);
      for (const line of touched) expect(line >= span.start && line <= span.end, `edit on line ${line} outside ${c.function}`).toBe(true);
      pyCompile(ws.file);
      expect(scanJson(ws.dir).findings.filter((f) => f.rule === c.rule)).toEqual([]);

      const fixedRun = run(ws.file, ws.dir, c.database);
      for (const measure of c.leaks) {
        expect(originalRun[measure], `the original leaks: ${JSON.stringify(originalRun)}`).toBeGreaterThan(0);
        expect(fixedRun[measure], `the fixed program leaks nothing: ${JSON.stringify(fixedRun)}`).toBe(0);
      }
      // Same results, same errors: the fix changed when the connection is returned, nothing else.
      expect(fixedRun.results).toEqual(originalRun.results);
      expect(fixedRun.errors).toEqual(originalRun.errors);
      const figures = c.leaks.map((m) => `${m} ${originalRun[m]} -> ${fixedRun[m]}`).join(", ");
      console.log(`${c.rule} ${c.program} on ${c.database}: ${figures}`);
    } finally {
      ws.remove();
    }
  });
});
