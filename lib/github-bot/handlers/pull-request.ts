import { findGitHubRepository, recordFixPullRequestClosed } from "../../db/github-bot.ts";
import type { BotContext } from "../context.ts";
import { runReview } from "./review-job.ts";
import { type HandlerResult, installationOf, type Payload, repoOf } from "./types.ts";

// pull_request: opened, synchronize, reopened, ready_for_review -> review the head;
// closed -> if it is one of Poolguard's fix pull requests, record how it ended.

const reviewed = new Set(["opened", "synchronize", "reopened", "ready_for_review"]);
const fixMarker = "<!-- poolguard:fingerprint=";

export async function handle(payload: Payload, ctx: BotContext): Promise<HandlerResult> {
  const action = payload.action as string;
  const pr = payload.pull_request as { number: number; draft?: boolean; merged?: boolean; body?: string | null; head: { sha: string; ref: string }; base: { ref: string } };
  const { owner, repo, fullName, githubId } = repoOf(payload);
  if (action === "closed") {
    const repository = await findGitHubRepository({ githubId, fullName });
    const prefix = repository?.settings?.branchPrefix ?? "poolguard/";
    if (!repository || !pr.head.ref.startsWith(`${prefix}fix-`) || !(pr.body ?? "").includes(fixMarker)) return { kind: "ignored", reason: "not a Poolguard fix pull request" };
    const record = await recordFixPullRequestClosed({ repositoryId: repository.id, branch: pr.head.ref, merged: Boolean(pr.merged), number: pr.number });
    if (!record) return { kind: "ignored", reason: "no record of this fix pull request" };
    return { kind: "fix-pull-request-closed", state: record.state, findingsFixed: record.findingsFixed };
  }
  if (!reviewed.has(action)) return { kind: "ignored", reason: `action ${action}` };
  // Drafts are reviewed once they are marked ready (ready_for_review).
  if (pr.draft) return { kind: "ignored", reason: "draft" };
  return runReview(ctx, { installationId: installationOf(payload), owner, repo, githubId, number: pr.number, headSha: pr.head.sha });
}
