import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scan } from "../analyzer/index.ts";
import { downloadSnapshotToDirectory, type GitHubClient } from "../github/index.ts";
import { baseConfig, getPullRequest } from "./review.ts";

// The "Fix these" check-run action: one commit with the safe fixes of the findings in
// the files the pull request changes, pushed to its branch. Forks cannot be written to
// by the App, so their check run explains what to run locally instead.

export const localFixCommand = "npx poolguard scan . --fix";

export type FixOutcome =
  | { kind: "pushed"; commitSha: string; files: string[] }
  | { kind: "fork"; message: string }
  | { kind: "nothing"; message: string }
  | { kind: "stale"; message: string };

export async function pushSafeFixes(client: GitHubClient, input: { owner: string; repo: string; number: number; checkRunId?: number; checkRunHeadSha?: string }): Promise<FixOutcome> {
  const { owner, repo, number } = input;
  const octokit = client.octokit.rest;
  const pull = await getPullRequest(client, owner, repo, number);
  const tell = async (title: string, summary: string) => {
    if (input.checkRunId) await octokit.checks.update({ owner, repo, check_run_id: input.checkRunId, output: { title, summary } });
  };
  if (pull.state !== "open") return { kind: "nothing", message: "the pull request is closed" };
  if (pull.fork) {
    const message = `Poolguard cannot push to a branch in another repository (${pull.headRepo ?? "a deleted fork"}). To apply the safe fixes, run this in your clone of the branch and push the result:\n\n\`\`\`\n${localFixCommand}\n\`\`\``;
    await tell("Run the fixes locally", message);
    return { kind: "fork", message };
  }
  if (input.checkRunHeadSha && input.checkRunHeadSha !== pull.headSha) {
    const message = `The branch moved on (now ${pull.headSha.slice(0, 7)}); use the button on the newest check run.`;
    await tell("This check run is out of date", message);
    return { kind: "stale", message };
  }
  const files = await client.octokit.paginate(octokit.pulls.listFiles, { owner, repo, pull_number: number, per_page: 100 });
  const changed = files.filter((f) => f.status !== "removed").map((f) => f.filename);
  const { config } = await baseConfig(client, owner, repo, pull.baseSha);
  const root = mkdtempSync(join(tmpdir(), "poolguard-fix-"));
  rmSync(root, { recursive: true });
  const fixed = new Map<string, string>();
  try {
    await downloadSnapshotToDirectory(client, { owner, repo, sha: pull.headSha, target: root });
    if (changed.length > 0) {
      await scan({ root, only: changed.map((p) => join(root, p)), config, fix: "safe", onFixedFile: (path, before, after) => (before !== after ? fixed.set(path, after) : undefined) });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  if (fixed.size === 0) {
    const message = "No safe fix applies to the files this pull request changes.";
    await tell("Nothing to fix", message);
    return { kind: "nothing", message };
  }
  const paths = [...fixed.keys()].sort();
  const { data: headCommit } = await octokit.git.getCommit({ owner, repo, commit_sha: pull.headSha });
  const tree: { path: string; mode: "100644"; type: "blob"; sha: string }[] = [];
  for (const path of paths) {
    const { data: blob } = await octokit.git.createBlob({ owner, repo, content: Buffer.from(fixed.get(path) as string, "utf8").toString("base64"), encoding: "base64" });
    tree.push({ path, mode: "100644", type: "blob", sha: blob.sha });
  }
  const { data: newTree } = await octokit.git.createTree({ owner, repo, base_tree: headCommit.tree.sha, tree });
  const message = `Apply Poolguard's safe fixes\n\nSession and connection lifecycle fixes for ${paths.length} file${paths.length === 1 ? "" : "s"}:\n${paths.map((p) => `- ${p}`).join("\n")}\n`;
  const { data: commit } = await octokit.git.createCommit({ owner, repo, message, tree: newTree.sha, parents: [pull.headSha] });
  // Not forced: if someone pushed meanwhile, GitHub refuses and nothing is lost.
  await octokit.git.updateRef({ owner, repo, ref: `heads/${pull.headRef}`, sha: commit.sha, force: false });
  return { kind: "pushed", commitSha: commit.sha, files: paths };
}
