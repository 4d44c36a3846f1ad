// Re-checks the pending fix cases against the current analyzer and says which now
// behave as a correct analyzer should (ready to move to the executed list):
//   npx tsx tests/support/fix-programs/check-pending.ts
// PostgreSQL comes from POOLGUARD_TEST_POSTGRES_URL, or a throwaway server is started.
import { pendingCases } from "./cases.ts";
import { postgresDatabase } from "./databases.ts";
import { executeFix, type FixOutcome, figures } from "./execute-fix.ts";

function verdict(expect: string, outcome: FixOutcome): boolean {
  if (expect === "no-finding") return outcome.kind === "no-finding";
  if (expect === "not-safe") return outcome.kind !== "executed";
  return outcome.kind === "executed" && outcome.problems.length === 0;
}

if (pendingCases.length === 0) {
  console.log("no pending cases: every known case is executed or checked by tests/integration/fixes");
  process.exit(0);
}
const postgres = await postgresDatabase();
let ready = 0;
try {
  for (const c of pendingCases) {
    const outcome = executeFix(c, postgres);
    const ok = verdict(c.expect, outcome);
    if (ok) ready++;
    console.log(`${ok ? "READY  " : "PENDING"} ${c.program} on ${c.database} (expect ${c.expect}): ${outcome.kind}`);
    console.log(`        ${c.why}`);
    if (outcome.kind === "executed") {
      console.log(`        ${figures(c, outcome)}`);
      for (const problem of outcome.problems) console.log(`        - ${problem.split("\n")[0]}`);
    }
  }
} finally {
  await postgres.drop();
}
console.log(`\n${ready} of ${pendingCases.length} pending cases behave as they should`);
