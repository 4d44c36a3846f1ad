import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SnapshotSource, SnapshotFetchError, SnapshotRefusedError } from "./snapshot.ts";

// GitHub repositories through the GitHub layer (lib/github): the tarball of one commit,
// unpacked without trusting the archive. Credentials come from the environment
// (GITHUB_TOKEN, or the GitHub App: GITHUB_APP_ID + private key; GITHUB_API_URL).

type GitHub = typeof import("../github/index.ts");

async function github(): Promise<GitHub> {
  return import("../github/index.ts");
}

function split(fullName: string): { owner: string; repo: string } {
  const [owner, repo, ...rest] = fullName.split("/");
  if (!owner || !repo || rest.length > 0) throw new SnapshotRefusedError(`"${fullName}" is not owner/name`);
  return { owner, repo };
}

/** A client for this repository: the App installation covering it, or the token. */
async function clientFor(fullName: string) {
  const gh = await github();
  const { owner, repo } = split(fullName);
  let client: ReturnType<GitHub["githubClientFromEnv"]>;
  try {
    client = gh.githubClientFromEnv();
  } catch (error) {
    if (error instanceof gh.GitHubConfigError) throw new SnapshotRefusedError(`GitHub is not configured on this server: ${error.message}`);
    throw error;
  }
  if (gh.githubAuthFromEnv().type === "app") client = client.forInstallation(await client.installationFor(owner, repo));
  return { client, owner, repo, gh };
}

function fetchError(error: unknown, fullName: string): Error {
  if (error instanceof SnapshotRefusedError) return error;
  const status = (error as { status?: number }).status;
  const message = `GitHub: could not read ${fullName}: ${(error as Error).message}`;
  if (status === 404 || status === 403 || status === 401 || (error as Error).name === "SnapshotError") return new SnapshotRefusedError(message);
  return new SnapshotFetchError(message);
}

/** Look a repository up on GitHub (for registering it). */
export async function describeGitHubRepository(fullName: string) {
  const { client, owner, repo } = await clientFor(fullName);
  try {
    return await client.getRepository(owner, repo);
  } catch (error) {
    throw fetchError(error, fullName);
  }
}

export function githubSource(fullName: string): SnapshotSource {
  return {
    kind: "github",
    describe: fullName,
    async materialize({ branch, commitSha }) {
      const { client, owner, repo, gh } = await clientFor(fullName);
      const dir = mkdtempSync(join(tmpdir(), "poolguard-github-"));
      const target = join(dir, "snapshot");
      const dispose = async () => rmSync(dir, { recursive: true, force: true });
      try {
        const sha = commitSha && gh.isCommitSha(commitSha) ? commitSha : (await client.resolveHead(owner, repo, branch ?? undefined)).sha;
        await gh.downloadSnapshotToDirectory(client, { owner, repo, sha, target });
        return { root: target, commitSha: sha, dispose };
      } catch (error) {
        await dispose();
        throw fetchError(error, fullName);
      }
    },
    async headCommit(branch) {
      const { client, owner, repo } = await clientFor(fullName);
      try {
        return (await client.resolveHead(owner, repo, branch ?? undefined)).sha;
      } catch (error) {
        throw fetchError(error, fullName);
      }
    },
  };
}
