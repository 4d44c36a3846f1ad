// Poolguard's GitHub layer. Everything Poolguard does on GitHub goes through here.
//
// Client (client.ts)
//   createGitHubClient({ auth, apiUrl?, writePauseMs?, ... }) -> GitHubClient
//   githubClientFromEnv(env)            GITHUB_TOKEN, or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY(_PATH); GITHUB_API_URL
//   client.forInstallation(id)          App auth: a client acting as one installation (token cached until 5 min before expiry)
//   client.installationFor(owner, repo) App auth: the installation covering a repository
//   client.listInstallations()          App auth: [{ id, account }]
//   client.listInstallationRepositories()  -> RepositoryInfo[] (installation auth)
//   client.getRepository(owner, repo)   -> RepositoryInfo { defaultBranch, private, archived, ... }
//   client.resolveHead(owner, repo, branch?) -> { branch, sha } (default branch when omitted)
//   client.changedFiles(owner, repo, baseSha, headSha) -> [{ path, status, previousPath? }]
//   client.readFile(owner, repo, sha, path) / client.readConfigFile(owner, repo, sha)
//   client.octokit                      the underlying Octokit (throttled, retried, writes serialized)
//
// Snapshots (snapshot.ts) - by commit sha only, read without trusting the archive
//   downloadSnapshotToDirectory(client, { owner, repo, sha, target }, { limits?, links? })
//   downloadSnapshotIntoMemory(client, { owner, repo, sha }) -> { files: { path, text }[], skipped }
//   extractSnapshot(bytesOrStream, target) / readSnapshotIntoMemory(bytesOrStream)
//   SnapshotError { reason, entry } for every refusal
//
// Fix pull requests (fix-pull-requests.ts)
//   ensureFixPullRequests({ client, owner, repo, baseBranch, baseSha, root, findings?, grouping?,
//                           branchPrefix?, maxOpen?, dryRun?, store?,
//                           closeResolved? }) -> FixPullRequestOutcome[]
//   `root` is a snapshot of baseSha on disk (downloadSnapshotToDirectory); `findings` from a
//   FULL scan of it (scanned when omitted; pass closeResolved: false with partial findings,
//   or Poolguard closes the pull requests whose findings it does not see).
//   Idempotent: the same inputs make no write call.
//   databaseFixPullRequestStore(repositoryId) (db-store.ts, imports lib/db) records outcomes.
//
// Also: redact / registerSecret (redact.ts); secrets at rest live in lib/crypto/secrets.ts.
export {
  apiUrlFromEnv,
  type ChangedFile,
  configFileNames,
  createGitHubClient,
  defaultApiUrl,
  type Env,
  type GitHubAuth,
  type GitHubClient,
  type GitHubClientOptions,
  GitHubConfigError,
  type GitHubLogger,
  type GitHubOctokit,
  githubAuthFromEnv,
  githubClientFromEnv,
  InstallationTokenCache,
  isCommitSha,
  type RepositoryInfo,
} from "./client.ts";
export {
  bodyFor,
  branchFor,
  computeGroupFixes,
  defaultBranchPrefix,
  defaultMaxOpenFixPullRequests,
  defaultRuleDocsUrl,
  type EnsureFixPullRequestsInput,
  ensureFixPullRequests,
  type FixedFile,
  type FixGrouping,
  fixGroupings,
  groupOf,
  isFixGrouping,
  type FixPullRequestAction,
  type FixPullRequestOutcome,
  type FixPullRequestStore,
  parseMarker,
  titleFor,
  unifiedDiff,
} from "./fix-pull-requests.ts";
export { redact, redactError, registerSecret } from "./redact.ts";
export {
  defaultSnapshotLimits,
  downloadSnapshotIntoMemory,
  downloadSnapshotToDirectory,
  downloadTarball,
  extractSnapshot,
  type MemoryFile,
  readSnapshotIntoMemory,
  type SkippedEntry,
  SnapshotError,
  type SnapshotLimits,
  type SnapshotReadOptions,
  type SnapshotRefusal,
} from "./snapshot.ts";
