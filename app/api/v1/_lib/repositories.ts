import { basename } from "node:path";
import { createRepository, findRepositoryByName, getRepositoryInOrganization } from "../../../../lib/db/index.ts";
import { setRepositorySchedule } from "../../../../lib/jobs/index.ts";
import { claimInstallation, connectedGitHubIds, installationOwner } from "../../../../lib/db/github-connections.ts";
import { GitHubConfigError, type GitHubClient, githubAuthFromEnv, githubClientFromEnv, type RepositoryInfo } from "../../../../lib/github/index.ts";
import { describeGitHubRepository } from "../../../../lib/scan/github-source.ts";
import { resolveLocalPath, SnapshotFetchError, SnapshotRefusedError, validateGitUrl } from "../../../../lib/scan/snapshot.ts";
import type { ApiCaller } from "./auth.ts";
import { ApiError, notFound } from "./http.ts";
import type { createRepositorySchema } from "./schemas.ts";
import type { z } from "zod";

export async function loadRepository(caller: ApiCaller, id: string) {
  const repository = await getRepositoryInOrganization(caller.organizationId, id);
  if (!repository) throw notFound("repository");
  return repository;
}

function nameFromUrl(url: string): string {
  const tail = url.replace(/\/+$/, "").split(/[/:]/).slice(-2).join("/");
  return tail.replace(/\.git$/, "") || url;
}

export async function registerRepository(caller: ApiCaller, body: z.infer<typeof createRepositorySchema>) {
  let input: Parameters<typeof createRepository>[0];
  try {
    if (body.provider === "local") {
      const path = resolveLocalPath(body.path);
      input = { organizationId: caller.organizationId, provider: "local", name: body.name ?? basename(path), localPath: path };
    } else if (body.provider === "git") {
      const url = validateGitUrl(body.url);
      input = { organizationId: caller.organizationId, provider: "git", name: body.name ?? nameFromUrl(url), cloneUrl: url, defaultBranch: body.defaultBranch };
    } else if (appConfigured()) {
      const { info, installationId } = await describeThroughApp(caller.organizationId, body.fullName);
      input = {
        organizationId: caller.organizationId,
        provider: "github",
        name: info.fullName,
        githubId: info.id,
        installationId,
        defaultBranch: info.defaultBranch,
        private: info.private,
      };
    } else {
      const info = await describeGitHubRepository(body.fullName);
      input = {
        organizationId: caller.organizationId,
        provider: "github",
        name: info.fullName,
        githubId: info.id,
        defaultBranch: info.defaultBranch,
        private: info.private,
      };
    }
  } catch (error) {
    if (error instanceof SnapshotRefusedError && /not configured/.test(error.message)) throw new ApiError(501, "not_supported", error.message);
    if (error instanceof SnapshotRefusedError) throw new ApiError(400, "invalid_repository", error.message);
    if (error instanceof SnapshotFetchError) throw new ApiError(502, "github_unavailable", error.message);
    throw error;
  }
  if (await findRepositoryByName(caller.organizationId, input.name)) {
    throw new ApiError(409, "conflict", `a repository named "${input.name}" already exists in this organization`);
  }
  const repository = await createRepository(input);
  // Every repository is kept current by default: daily, at a time derived from its id.
  await setRepositorySchedule(repository.id, { cron: null, enabled: true });
  return repository;
}

// ---------- GitHub App installations ----------

/** GitHub App credentials are configured (GITHUB_APP_ID): repositories are listed and read through the App. */
export function appConfigured(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.GITHUB_APP_ID?.trim());
}

function appClient(): GitHubClient {
  try {
    const auth = githubAuthFromEnv(process.env);
    if (auth.type !== "app") throw new GitHubConfigError("GITHUB_APP_ID is not set");
    return githubClientFromEnv(process.env);
  } catch (error) {
    if (error instanceof GitHubConfigError) throw new SnapshotRefusedError(`GitHub is not configured on this server: ${error.message}`);
    throw error;
  }
}

type AppInstallation = { id: number; account: string; accountType: string };

async function appInstallations(client: GitHubClient): Promise<AppInstallation[]> {
  const items = await client.octokit.paginate(client.octokit.rest.apps.listInstallations, { per_page: 100 });
  return items.map((i) => {
    const account = (i.account ?? {}) as { login?: string; slug?: string; type?: string };
    return { id: i.id, account: account.login ?? account.slug ?? "", accountType: account.type ?? (account.slug ? "Enterprise" : "User") };
  });
}

function gitHubFailure(error: unknown, what: string): Error {
  if (error instanceof SnapshotRefusedError || error instanceof ApiError) return error;
  const status = (error as { status?: number }).status;
  if (status === 404 || status === 403 || status === 401) return new SnapshotRefusedError(`GitHub: ${what}: ${(error as Error).message}`);
  return new SnapshotFetchError(`GitHub: ${what}: ${(error as Error).message}`);
}

export type ConnectableRepository = RepositoryInfo & { installationId: number; account: string; connected: boolean };

/**
 * The repositories an organization's admins can connect: those of every App installation
 * not claimed by another organization, live from GitHub. Null when no App is configured.
 */
export async function listConnectableGitHubRepositories(organizationId: string): Promise<ConnectableRepository[] | null> {
  if (!appConfigured()) return null;
  const client = appClient();
  const connected = await connectedGitHubIds(organizationId);
  const result: ConnectableRepository[] = [];
  try {
    for (const installation of await appInstallations(client)) {
      const owner = await installationOwner(installation.id);
      if (owner && owner !== organizationId) continue;
      for (const repo of await client.forInstallation(installation.id).listInstallationRepositories()) {
        result.push({ ...repo, installationId: installation.id, account: installation.account, connected: connected.has(repo.id) });
      }
    }
  } catch (error) {
    throw gitHubFailure(error, "could not list the App's repositories");
  }
  return result.sort((a, b) => a.fullName.localeCompare(b.fullName));
}

/** Look a repository up through the installation covering it, and claim that installation for the organization. */
async function describeThroughApp(organizationId: string, fullName: string): Promise<{ info: RepositoryInfo; installationId: string }> {
  const [owner, repo] = fullName.split("/");
  const client = appClient();
  try {
    let installationGithubId: number;
    try {
      installationGithubId = await client.installationFor(owner, repo);
    } catch (error) {
      if ((error as { status?: number }).status === 404) throw new SnapshotRefusedError(`the GitHub App is not installed on ${fullName}, or the repository does not exist`);
      throw error;
    }
    const installation = (await appInstallations(client)).find((i) => i.id === installationGithubId);
    const claimed = await claimInstallation({
      githubId: installationGithubId,
      accountLogin: installation?.account ?? owner,
      accountType: installation?.accountType ?? "User",
      organizationId,
    });
    // Another organization's installation: answered like a repository that is not there.
    if (!claimed) throw new SnapshotRefusedError(`the GitHub App is not installed on ${fullName}, or the repository does not exist`);
    const info = await client.forInstallation(installationGithubId).getRepository(owner, repo);
    return { info, installationId: claimed.id };
  } catch (error) {
    throw gitHubFailure(error, `could not read ${fullName}`);
  }
}
