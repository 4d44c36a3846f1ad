// `poolguard pr-check`: review one pull request with a token (CI, no GitHub App; tokens
// cannot create check runs). Posts a commit status on the head and one summary comment,
// updated in place on later runs (found again by its hidden marker). Token: GITHUB_TOKEN.
import { parseArgs } from "node:util";
import { apiUrlFromEnv, createGitHubClient } from "../github/client.ts";
import { redact } from "../github/redact.ts";
import { parseFailOn } from "../github-bot/analysis.ts";
import { checkPullRequestWithToken } from "../github-bot/review.ts";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void; env: Record<string, string | undefined> };

export const prCheckUsage = "poolguard pr-check --repo OWNER/NAME --pr N [--fail-on info|warning|error|never] [--context NAME] [--api-url URL]";

function usageError(io: Io, message: string): 2 {
  io.stderr(`poolguard pr-check: ${message}\n\nUsage:\n  ${prCheckUsage}\n`);
  return 2;
}

/** Exit 0 when the status is success, 1 when new findings reach --fail-on, 2 on usage or GitHub errors. */
export async function runPrCheckCommand(args: string[], io: Io): Promise<0 | 1 | 2> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: { repo: { type: "string" }, pr: { type: "string" }, "fail-on": { type: "string", default: "warning" }, context: { type: "string", default: "poolguard" }, "api-url": { type: "string" }, help: { type: "boolean", short: "h" } },
    }).values;
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  if (values.help) {
    io.stdout(`Usage:\n  ${prCheckUsage}\n`);
    return 0;
  }
  const [owner, repo, ...extra] = String(values.repo ?? "").split("/");
  if (!owner || !repo || extra.length > 0) return usageError(io, "--repo OWNER/NAME is required");
  const number = Number(values.pr);
  if (!Number.isInteger(number) || number <= 0) return usageError(io, "--pr N (the pull request number) is required");
  const failOnText = String(values["fail-on"]);
  if (!["info", "warning", "error", "never"].includes(failOnText)) return usageError(io, `--fail-on must be info, warning, error or never (got "${failOnText}")`);
  const token = io.env.GITHUB_TOKEN?.trim();
  if (!token) return usageError(io, "GITHUB_TOKEN is not set");
  const client = createGitHubClient({ auth: { type: "token", token }, apiUrl: (values["api-url"] as string | undefined) ?? apiUrlFromEnv(io.env) });
  try {
    const result = await checkPullRequestWithToken(client, { owner, repo, number, failOn: parseFailOn(failOnText), context: String(values.context), baseUrl: io.env.POOLGUARD_BASE_URL });
    const fresh = result.findings.filter((f) => f.status === "new").length;
    io.stdout(`${owner}/${repo}#${number} at ${result.headSha.slice(0, 7)}: ${fresh} new, ${result.findings.length - fresh} pre-existing, ${result.fixed.length} fixed; status ${result.state}; summary comment ${result.commentAction}\n`);
    for (const f of result.findings) io.stdout(`  ${f.status === "new" ? "new" : "old"} ${f.path}:${f.line} ${f.severity} ${f.rule}: ${f.message}\n`);
    return result.state === "failure" ? 1 : 0;
  } catch (error) {
    io.stderr(`poolguard pr-check: ${redact((error as Error).message)}\n`);
    return 2;
  }
}
