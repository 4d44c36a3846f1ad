// One fix case, end to end, as a user meets it: scan, apply with --fix, check the edit,
// run the original and the fixed program against the database, compare. The outcome
// lists every broken promise of a safe fix instead of stopping at the first, so a test
// (or scripts that re-check known-unsafe cases) can show all of them at once.
import { readFileSync } from "node:fs";
import { type PostgresDatabase, sqlalchemyUrl, sqliteFile } from "./databases.ts";
import {
  applyEdits,
  applySafeFixes,
  changedLines,
  type Finding,
  type Fix,
  functionLines,
  nodeProject,
  type ProgramRun,
  pyCompile,
  python,
  runProgram,
  scanJson,
  styleViolations,
  syntaxCheck,
  touchedLines,
  tsx,
  typeCheck,
  workspace,
} from "./harness.ts";

/** Python programs name the SQLAlchemy dialect+driver; node programs use PostgreSQL directly. */
export type Database = "sqlite" | "sqlite+aiosqlite" | "postgresql+psycopg2" | "postgresql+asyncpg" | "postgresql";

export type FixCase = {
  /** Program under tests/support/fix-programs, e.g. "python/session_not_closed_sync.py". */
  program: string;
  rule: string;
  /** The top-level function the fix must stay inside. */
  function: string;
  database: Database;
  /** Measurements the program prints that count leaked connections: > 0 before, 0 after. */
  leaks: string[];
  /** Findings of `rule` the program holds, each with a safe fix (default 1). */
  findings?: number;
  /** Rules of other findings the program holds on the same resource, each with a safe fix that --fix applies too. */
  alsoRules?: string[];
};

export type FixOutcome =
  | { kind: "no-finding"; findings: Finding[] }
  | { kind: "not-safe"; finding: Finding }
  | {
      kind: "executed";
      finding: Finding;
      fix: Fix;
      original: string;
      fixed: string;
      originalRun: ProgramRun | null;
      fixedRun: ProgramRun | null;
      /** Every way the safe fix broke its promise; empty when it kept all of them. */
      problems: string[];
    };

let appCounter = 0;

function environment(database: Database, dir: string, postgres: PostgresDatabase | null): Record<string, string> {
  const app = `poolguard-fix-${process.pid}-${++appCounter}`;
  if (database === "sqlite" || database === "sqlite+aiosqlite") {
    const path = sqliteFile(dir);
    return { FIX_DB_URL: `${database}:///${path}`, FIX_SQLITE_PATH: path, FIX_APP_NAME: app };
  }
  if (!postgres) throw new Error(`${database} needs a PostgreSQL database`);
  const dsn = `${postgres.url}${postgres.url.includes("?") ? "&" : "?"}application_name=${app}`;
  if (database === "postgresql") return { FIX_PG_URL: dsn, FIX_APP_NAME: app };
  const driver = database === "postgresql+psycopg2" ? "psycopg2" : "asyncpg";
  return { FIX_DB_URL: sqlalchemyUrl(postgres, driver), FIX_PG_DSN: dsn, FIX_APP_NAME: app };
}

function run(file: string, dir: string, database: Database, postgres: PostgresDatabase | null): ProgramRun {
  const env = environment(database, dir, postgres);
  if (file.endsWith(".py")) return runProgram(python, [file], env, dir);
  if (file.endsWith(".ts")) return runProgram(tsx, [file], env, dir);
  return runProgram(process.execPath, [file], env, dir);
}

function attempt(problems: string[], what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    problems.push(`${what}: ${(error as Error).message}`);
  }
}

export function executeFix(c: FixCase, postgres: PostgresDatabase | null): FixOutcome {
  const isPython = c.program.endsWith(".py");
  const ws = workspace(c.program, isPython ? ["python/fix_report.py"] : []);
  try {
    if (!isPython) nodeProject(ws.dir);
    const name = c.program.split("/").pop() ?? c.program;
    const before = scanJson(ws.dir);
    if (before.errors.length > 0) throw new Error(`the scan reported errors: ${JSON.stringify(before.errors)}`);
    const finding = before.findings.find((f) => !f.suppressed && f.path === name && f.rule === c.rule);
    if (!finding) return { kind: "no-finding", findings: before.findings };
    if (finding.fix?.safety !== "safe") return { kind: "not-safe", finding };
    const fix = finding.fix;
    const problems: string[] = [];
    const expected = c.findings ?? 1;
    const mine = before.findings.filter((f) => !f.suppressed && f.path === name && f.rule === c.rule);
    const also = before.findings.filter((f) => !f.suppressed && f.path === name && (c.alsoRules ?? []).includes(f.rule));
    for (const rule of c.alsoRules ?? []) if (!also.some((f) => f.rule === rule && f.fix?.safety === "safe")) problems.push(`no ${rule} finding with a safe fix`);
    const others = before.findings.filter((f) => !f.suppressed && !mine.includes(f) && !also.includes(f));
    if (others.length > 0) problems.push(`other findings in the program: ${others.map((f) => `${f.path}:${f.line} ${f.rule}`).join(", ")}`);
    if (mine.length !== expected) problems.push(`${mine.length} ${c.rule} findings, expected ${expected}`);
    const unsafe = mine.filter((f) => f.fix?.safety !== "safe");
    if (unsafe.length > 0) problems.push(`findings without a safe fix: lines ${unsafe.map((f) => f.line).join(", ")}`);

    let originalRun: ProgramRun | null = null;
    attempt(problems, "the original program failed", () => {
      originalRun = run(ws.file, ws.dir, c.database, postgres);
    });
    applySafeFixes(ws.dir);
    const fixed = readFileSync(ws.file, "utf8");
    // Untouched lines stay byte-identical; the fix stays inside the function it fixes. With
    // several fixes --fix applies them in passes, each computed on the text the last one left,
    // so only the function's bounds can be checked against the original.
    const span = functionLines(ws.original, c.function);
    const changed = changedLines(ws.original, fixed);
    if (expected === 1 && also.length === 0) {
      if (fixed !== applyEdits(ws.original, fix.edits)) problems.push("--fix wrote something other than the edits the JSON offered");
      const touched = touchedLines(fix.edits);
      const outside = changed.filter((line) => !touched.has(line));
      if (outside.length > 0) problems.push(`lines changed outside the fix's edits: ${outside.join(", ")}`);
    }
    const escaped = changed.filter((line) => line < span.start || line > span.end);
    if (escaped.length > 0) problems.push(`lines changed outside ${c.function} (lines ${span.start}-${span.end}): ${escaped.join(", ")}`);
    if (isPython) {
      attempt(problems, "the fixed file does not compile", () => pyCompile(ws.file));
    } else {
      problems.push(...styleViolations(ws.original, fixed));
      if (ws.file.endsWith(".ts")) attempt(problems, "the fixed file does not type-check", () => typeCheck(ws.file, ws.dir));
      else attempt(problems, "the fixed file does not parse", () => syntaxCheck(ws.file));
    }
    const after = scanJson(ws.dir).findings.filter((f) => (f.rule === c.rule || (c.alsoRules ?? []).includes(f.rule)) && f.path === name);
    if (after.length > 0) problems.push(`still reported after the fix: ${after.map((f) => `line ${f.line}`).join(", ")}`);

    let fixedRun: ProgramRun | null = null;
    attempt(problems, "the fixed program failed", () => {
      fixedRun = run(ws.file, ws.dir, c.database, postgres);
    });
    const o = originalRun as ProgramRun | null;
    const f = fixedRun as ProgramRun | null;
    if (o && f) {
      for (const measure of c.leaks) {
        if (!(typeof o[measure] === "number" && o[measure] > 0)) problems.push(`the original does not leak: ${measure} = ${JSON.stringify(o[measure])}`);
        if (f[measure] !== 0) problems.push(`the fixed program still leaks: ${measure} = ${JSON.stringify(f[measure])}`);
      }
      // Same results and errors: the fix changes when the connection goes back, nothing else.
      if (JSON.stringify(f.results) !== JSON.stringify(o.results)) problems.push(`results changed: ${JSON.stringify(o.results)} -> ${JSON.stringify(f.results)}`);
      if (JSON.stringify(f.errors) !== JSON.stringify(o.errors)) problems.push(`errors changed: ${JSON.stringify(o.errors)} -> ${JSON.stringify(f.errors)}`);
    }
    return { kind: "executed", finding, fix, original: ws.original, fixed, originalRun: o, fixedRun: f, problems };
  } finally {
    ws.remove();
  }
}

/** "checked_out 3 -> 0" for each leak measure, for test output and docs. */
export function figures(c: FixCase, outcome: FixOutcome): string {
  if (outcome.kind !== "executed") return outcome.kind;
  return c.leaks.map((m) => `${m} ${JSON.stringify(outcome.originalRun?.[m])} -> ${JSON.stringify(outcome.fixedRun?.[m])}`).join(", ");
}
