import { basename } from "node:path";
import { createRepository, findRepositoryByName, getRepositoryInOrganization } from "../../../../lib/db/index.ts";
import { setRepositorySchedule } from "../../../../lib/jobs/index.ts";
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
