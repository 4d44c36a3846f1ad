// Records fix pull request outcomes in the database (the web app and job worker use
// this; the CLI runs without a database and passes no store).
import { upsertFixPullRequest } from "../db/fix-pull-requests.ts";
import type { FixPullRequestOutcome, FixPullRequestStore } from "./fix-pull-requests.ts";

/** A store for one repository row. Outcomes without a pull request (limit reached, no fix) are not recorded. */
export function databaseFixPullRequestStore(repositoryId: string): FixPullRequestStore {
  return {
    async record({ baseBranch, outcome }: { baseBranch: string; outcome: FixPullRequestOutcome }) {
      if (outcome.number === null) return;
      await upsertFixPullRequest({
        repositoryId,
        branch: outcome.branch,
        title: outcome.title,
        baseBranch,
        bodyFingerprint: outcome.fingerprint,
        findingsFingerprint: outcome.findingsFingerprint,
        groupKey: outcome.group,
        number: outcome.number,
        url: outcome.url,
        state: outcome.state ?? "open",
        headSha: outcome.headSha,
        findingIds: [],
        findingFingerprints: outcome.findings.map((f) => f.fingerprint),
        stoppedReason: outcome.action === "skipped-foreign-commits" ? outcome.reason : outcome.action === "skipped-closed" ? undefined : null,
      });
    },
  };
}
