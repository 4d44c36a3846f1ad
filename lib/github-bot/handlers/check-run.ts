import type { BotContext } from "../context.ts";
import { pushSafeFixes } from "../fix.ts";
import { checkName, fixActionIdentifier } from "../report.ts";
import { runReview } from "./review-job.ts";
import { type HandlerResult, installationOf, type Payload, repoOf } from "./types.ts";

// check_run: rerequested (run the review again) and requested_action ("Fix these").

function pullNumberOf(payload: Payload): number | null {
  const run = payload.check_run as { external_id?: string | null; pull_requests?: { number: number }[] };
  const fromList = run.pull_requests?.[0]?.number;
  if (typeof fromList === "number") return fromList;
  // Poolguard's own check runs carry the pull request in external_id ("pr-12").
  const m = /^pr-(\d+)$/.exec(run.external_id ?? "");
  return m ? Number(m[1]) : null;
}

export async function handle(payload: Payload, ctx: BotContext): Promise<HandlerResult> {
  const run = payload.check_run as { id: number; name: string; head_sha: string };
  if (run.name !== checkName) return { kind: "ignored", reason: "another app's check run" };
  const number = pullNumberOf(payload);
  if (number === null) return { kind: "ignored", reason: "not a pull request's check run" };
  const { owner, repo, githubId } = repoOf(payload);
  const installationId = installationOf(payload);
  if (payload.action === "rerequested") return runReview(ctx, { installationId, owner, repo, githubId, number, headSha: run.head_sha });
  if (payload.action === "requested_action") {
    if (payload.requested_action?.identifier !== fixActionIdentifier) return { kind: "ignored", reason: "unknown action" };
    const outcome = await pushSafeFixes(ctx.clientFor(installationId), { owner, repo, number, checkRunId: run.id, checkRunHeadSha: run.head_sha });
    return { ...outcome, kind: `fix-${outcome.kind}` };
  }
  return { kind: "ignored", reason: `action ${payload.action}` };
}
