import { findGitHubRepository } from "../../db/github-bot.ts";
import { parseFailOn } from "../analysis.ts";
import type { BotContext } from "../context.ts";
import { reviewPullRequest, SupersededError } from "../review.ts";
import { claimPullRequest, pullKey } from "../supersede.ts";
import type { HandlerResult } from "./types.ts";

/** Review one head of a pull request; work on an older head of the same pull request is cancelled. */
export async function runReview(ctx: BotContext, input: { installationId: number; owner: string; repo: string; githubId?: number; number: number; headSha: string }): Promise<HandlerResult> {
  const repository = await findGitHubRepository({ githubId: input.githubId, fullName: `${input.owner}/${input.repo}` });
  const key = pullKey(input.owner, input.repo, input.number);
  try {
    const result = await reviewPullRequest(ctx.clientFor(input.installationId), {
      owner: input.owner,
      repo: input.repo,
      number: input.number,
      headSha: input.headSha,
      failOn: parseFailOn(repository?.settings?.failOn),
      baseUrl: ctx.baseUrl,
      repositoryId: repository?.id ?? null,
      claim: (headSha) => claimPullRequest(key, headSha),
      log: ctx.log,
      jobs: ctx.jobs,
    });
    return { kind: "reviewed", conclusion: result.conclusion, checkRunId: result.checkRunId, findings: result.findings.length, suggestions: result.suggestionsPosted };
  } catch (error) {
    if (error instanceof SupersededError) {
      ctx.log.info("review superseded", { number: input.number, headSha: input.headSha, reason: error.message });
      return { kind: "superseded" };
    }
    throw error;
  }
}
