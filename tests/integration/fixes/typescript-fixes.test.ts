// Every fix kind the TypeScript rules label safe that can run here, executed against the
// real library on PostgreSQL: the original program leaves clients checked out of the
// pool, the program fixed by `poolguard scan --fix` leaves none, prints the same results
// and errors, still type-checks, keeps the file's style and differs from the original
// only on the lines the fix edits.
// Leaks are clients checked out of the pool, and (transaction-not-finished) transactions
// left open on the server's connections (`pg_stat_activity`).
// mongoose-session-not-ended is not executed: there is no MongoDB server on this machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { typescriptCases } from "../../support/fix-programs/cases.ts";
import { type PostgresDatabase, postgresDatabase } from "../../support/fix-programs/databases.ts";
import { executeFix, figures } from "../../support/fix-programs/execute-fix.ts";

let postgres: PostgresDatabase;

beforeAll(async () => {
  postgres = await postgresDatabase();
});
afterAll(async () => {
  await postgres?.drop();
});

describe("typescript fixes labelled safe, executed against node-postgres and TypeORM", () => {
  it.each(typescriptCases)("$rule: $program on PostgreSQL", (c) => {
    const outcome = executeFix(c, postgres);
    expect(outcome.kind, "reported with a fix labelled safe").toBe("executed");
    if (outcome.kind !== "executed") return;
    expect(outcome.problems).toEqual([]);
    for (const measure of c.leaks) {
      expect(outcome.originalRun?.[measure], `${measure} after the original`).toBeGreaterThan(0);
      expect(outcome.fixedRun?.[measure], `${measure} after the fixed program`).toBe(0);
    }
    console.log(`${c.rule} ${c.program}: ${figures(c, outcome)}`);
    // A case with two fixes scans three times and type-checks: slower than the default on a loaded machine.
  }, 300_000);
});
