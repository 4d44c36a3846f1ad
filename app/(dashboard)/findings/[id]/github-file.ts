import { githubAuthFromEnv, githubClientFromEnv } from "../../../../lib/github/index.ts";
import type { FindingSource } from "../../../../lib/ui/finding-source.ts";

// For a finding in a GitHub repository: the file at the commit it was last seen at, read
// through lib/github (the App installation covering the repository, or the token), so
// the page can show the code around it and the fix as a diff. Null when GitHub is not
// configured or does not answer; the page then shows the stored lines.

const context = 8;

export async function githubFindingSource(input: { repositoryName: string; commitSha: string | null; path: string; line: number; endLine: number }): Promise<FindingSource | null> {
  if (!input.commitSha) return null;
  const [owner, repo] = input.repositoryName.split("/");
  if (!owner || !repo) return null;
  try {
    let client = githubClientFromEnv();
    if (githubAuthFromEnv().type === "app") client = client.forInstallation(await client.installationFor(owner, repo));
    const fileText = await client.readFile(owner, repo, input.commitSha, input.path);
    if (fileText === null) return null;
    const lines = fileText.split("\n");
    const first = Math.max(1, input.line - context);
    const last = Math.min(lines.length, input.endLine + context);
    return { text: lines.slice(first - 1, last).join("\n"), firstLine: first, from: "file", fromFile: true, fileText };
  } catch {
    return null;
  }
}
