import { findGitHubRepository } from "../../db/github-bot.ts";
import { dispatcher, requestScan } from "../../jobs/index.ts";
import type { BotContext } from "../context.ts";
import { type HandlerResult, type Payload, repoOf } from "./types.ts";

// push: a push to the default branch queues a scan of that commit (the dashboard's
// findings follow the default branch). Other branches are reviewed as pull requests.

export async function handle(payload: Payload, _ctx: BotContext): Promise<HandlerResult> {
  const { fullName, githubId } = repoOf(payload);
  const defaultBranch = (payload.repository as { default_branch?: string }).default_branch;
  if (payload.deleted || !defaultBranch || payload.ref !== `refs/heads/${defaultBranch}`) return { kind: "ignored", reason: "not the default branch" };
  const repository = await findGitHubRepository({ githubId, fullName });
  if (!repository) return { kind: "ignored", reason: "repository not registered" };
  const { scan, created } = await requestScan(await dispatcher(), { repositoryId: repository.id, trigger: "push", branch: defaultBranch, commitSha: payload.after as string, idempotencyKey: `push-${repository.id}-${payload.after}` });
  return { kind: created ? "scan-queued" : "scan-already-queued", scanId: scan.id };
}
