// Every fix kind the Python rules label safe, executed: the original program leaves
// connections checked out of a real pool (or open on a real server), the program fixed
// by `poolguard scan --fix` leaves none, prints the same results and raises the same
// errors, still compiles, and differs from the original only on the lines the fix edits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notSafeCases, pythonCases } from "../../support/fix-programs/cases.ts";
import { type PostgresDatabase, postgresDatabase } from "../../support/fix-programs/databases.ts";
import { executeFix, figures } from "../../support/fix-programs/execute-fix.ts";

let postgres: PostgresDatabase;

beforeAll(async () => {
  postgres = await postgresDatabase();
});
afterAll(async () => {
  await postgres?.drop();
});

describe("python fixes labelled safe, executed against SQLAlchemy 1.4, psycopg2, psycopg 3, asyncpg and aiosqlite", () => {
  it.each(pythonCases)("$rule: $program on $database", (c) => {
    const outcome = executeFix(c, postgres);
    expect(outcome.kind, "reported with a fix labelled safe").toBe("executed");
    if (outcome.kind !== "executed") return;
    expect(outcome.problems).toEqual([]);
    for (const measure of c.leaks) {
      expect(outcome.originalRun?.[measure], `${measure} after the original`).toBeGreaterThan(0);
      expect(outcome.fixedRun?.[measure], `${measure} after the fixed program`).toBe(0);
    }
    console.log(`${c.rule} ${c.program} on ${c.database}: ${figures(c, outcome)}`);
  });
});

describe("python code a closing fix would break gets no fix labelled safe", () => {
  it.each(notSafeCases)("$rule: $program", (c) => {
    const outcome = executeFix(c, postgres);
    // Executed means a safe fix was offered: its problems say how it broke the program.
    const detail = outcome.kind === "executed" ? outcome.problems.join("; ") : outcome.kind;
    if (c.expect === "no-finding") expect(outcome.kind, `${c.why} (${detail})`).toBe("no-finding");
    else expect(outcome.kind, `${c.why} (${detail})`).not.toBe("executed");
  });
});
