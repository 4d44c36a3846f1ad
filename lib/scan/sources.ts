import { type SnapshotSource, gitSource, localSource, SnapshotRefusedError } from "./snapshot.ts";

export type RepositoryLocation = {
  provider: string;
  name: string;
  localPath: string | null;
  cloneUrl: string | null;
};

/**
 * The snapshot source for a stored repository: a local path (allowlisted), a git URL
 * (shallow clone), or a GitHub repository (tarball of a commit through lib/github).
 */
export async function sourceFor(repository: RepositoryLocation): Promise<SnapshotSource> {
  if (repository.provider === "local") {
    if (!repository.localPath) throw new SnapshotRefusedError("this repository has no local path");
    return localSource(repository.localPath);
  }
  if (repository.provider === "git") {
    if (!repository.cloneUrl) throw new SnapshotRefusedError("this repository has no clone URL");
    return gitSource(repository.cloneUrl);
  }
  if (repository.provider === "github") {
    const { githubSource } = await import("./github-source.ts");
    return githubSource(repository.name);
  }
  throw new SnapshotRefusedError(`unknown repository provider "${repository.provider}"`);
}
