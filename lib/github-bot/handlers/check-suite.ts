import type { BotContext } from "../context.ts";
import { runReview } from "./review-job.ts";
import { type HandlerResult, installationOf, type Payload, repoOf } from "./types.ts";

// check_suite: rerequested ("Re-run all checks") reviews the suite's pull requests again.

export async function handle(payload: Payload, ctx: BotContext): Promise<HandlerResult> {
  if (payload.action !== "rerequested") return { kind: "ignored", reason: `action ${payload.action}` };
  const suite = payload.check_suite as { head_sha: string; pull_requests?: { number: number }[] };
  const { owner, repo, githubId } = repoOf(payload);
  const installationId = installationOf(payload);
  const results: HandlerResult[] = [];
  for (const pr of suite.pull_requests ?? []) results.push(await runReview(ctx, { installationId, owner, repo, githubId, number: pr.number, headSha: suite.head_sha }));
  return { kind: "check-suite-rerun", results };
}
