import { type SnapshotSource, gitSource, localSource, SnapshotRefusedError } from "./snapshot.ts";

export type RepositoryLocation = {
  provider: string;
  name: string;
  localPath: string | null;
  cloneUrl: string | null;
};

/**
 * The snapshot source for a stored repository. GitHub repositories need the GitHub
 * layer (tarball of a commit through the installation); until it is present they are
 * refused with a clear message rather than scanned some other way.
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
    throw new SnapshotRefusedError("scanning GitHub repositories needs the GitHub App connection, which this server does not have yet");
  }
  throw new SnapshotRefusedError(`unknown repository provider "${repository.provider}"`);
}
