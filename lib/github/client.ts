// The one way Poolguard talks to GitHub: @octokit/rest with the throttling and retry
// plugins, authenticated as a GitHub App installation or with a token, against
// github.com or a GitHub Enterprise Server base URL.
//
// - Rate limits (primary and secondary) are waited out, honouring retry-after.
// - 5xx answers are retried with back-off.
// - Writes go out one at a time with a pause between them (content-creation limits).
// - Installation tokens are cached until shortly before they expire.
// - Credentials never reach the log (see redact.ts).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createAppAuth } from "@octokit/auth-app";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { redact, registerSecret } from "./redact.ts";

/** Environment variables (process.env or a plain object in tests). */
export type Env = Record<string, string | undefined>;

export type GitHubAuth =
  | { type: "token"; token: string }
  | { type: "app"; appId: string | number; privateKey: string; installationId?: number };

export type GitHubLogger = { debug: (m: string) => void; info: (m: string) => void; warn: (m: string) => void; error: (m: string) => void };

export type GitHubClientOptions = {
  auth: GitHubAuth;
  /** REST base URL; GitHub Enterprise Server: https://HOST/api/v3. Default https://api.github.com. */
  apiUrl?: string;
  /** Pause between two write calls (ms). Default 1000, as GitHub recommends. */
  writePauseMs?: number;
  /** Pause between two writes that notify people (new pull requests, comments, reviews). Default 3000. */
  notificationPauseMs?: number;
  /** Base of the back-off for 5xx retries (ms; waits base*1, base*4, base*9). Default 1000. */
  retryBaseMs?: number;
  /** How many times a 5xx is retried. Default 3. */
  retries?: number;
  /** Milliseconds per second of retry-after (tests shrink it). Default 1000. */
  rateLimitUnitMs?: number;
  /** How many times one request waits out a rate limit before giving up. Default 4. */
  rateLimitRetries?: number;
  /** Longest single wait for a rate limit (s) before giving up. Default 3600. */
  maxRateLimitWaitSeconds?: number;
  /** Renew a cached installation token this long before it expires (ms). Default 5 minutes. */
  tokenRefreshMarginMs?: number;
  log?: GitHubLogger;
  userAgent?: string;
};

export const defaultApiUrl = "https://api.github.com";

export class GitHubConfigError extends Error {}

/** Auth from the environment: GITHUB_APP_ID + key for the App, else GITHUB_TOKEN. */
export function githubAuthFromEnv(env: Env = process.env, options: { preferToken?: boolean } = {}): GitHubAuth {
  const token = env.GITHUB_TOKEN?.trim();
  if (options.preferToken && token) return { type: "token", token };
  if (env.GITHUB_APP_ID) {
    let privateKey = env.GITHUB_APP_PRIVATE_KEY;
    if (!privateKey && env.GITHUB_APP_PRIVATE_KEY_PATH) privateKey = readFileSync(env.GITHUB_APP_PRIVATE_KEY_PATH, "utf8");
    if (!privateKey) throw new GitHubConfigError("GITHUB_APP_ID is set but neither GITHUB_APP_PRIVATE_KEY nor GITHUB_APP_PRIVATE_KEY_PATH is");
    // Keys pasted into one-line env files come with literal "\n".
    privateKey = privateKey.includes("\\n") && !privateKey.includes("\n") ? privateKey.replace(/\\n/g, "\n") : privateKey;
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) throw new GitHubConfigError("the GitHub App private key is not a PEM private key");
    return { type: "app", appId: env.GITHUB_APP_ID, privateKey };
  }
  if (token) return { type: "token", token };
  throw new GitHubConfigError("no GitHub credentials: set GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY(_PATH)");
}

export function apiUrlFromEnv(env: Env = process.env): string {
  return (env.GITHUB_API_URL?.trim() || defaultApiUrl).replace(/\/+$/, "");
}

/**
 * An installation-token cache for @octokit/auth-app that drops an entry shortly
 * before the token's own expires_at (rather than a fixed 59 minutes), shared by
 * every client in the process.
 */
export class InstallationTokenCache {
  private readonly entries = new Map<string, string>();
  constructor(private readonly marginMs = 5 * 60_000) {}
  get(key: string): string | undefined {
    const value = this.entries.get(key);
    if (!value) return undefined;
    const expiresAt = Date.parse(value.split("|")[2] ?? "");
    if (!Number.isFinite(expiresAt) || expiresAt - Date.now() < this.marginMs) {
      this.entries.delete(key);
      return undefined;
    }
    return value;
  }
  set(key: string, value: string): void {
    registerSecret(value.split("|")[0]);
    this.entries.set(key, value);
  }
}

const sharedTokenCache = new InstallationTokenCache();

const PluggedOctokit = Octokit.plugin(throttling, retry);
export type GitHubOctokit = InstanceType<typeof PluggedOctokit>;

const silentLog: GitHubLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Runs write calls one after another with a pause between the end of one and the start of the next. */
class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private lastEnd = 0;
  private lastNotification = 0;
  constructor(
    private readonly pauseMs: number,
    private readonly notificationPauseMs: number,
  ) {}
  run<T>(fn: () => Promise<T>, notifies: boolean): Promise<T> {
    const next = this.tail.then(async () => {
      const after = Math.max(this.lastEnd > 0 ? this.lastEnd + this.pauseMs : 0, notifies && this.lastNotification > 0 ? this.lastNotification + this.notificationPauseMs : 0);
      const wait = after - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      try {
        return await fn();
      } finally {
        this.lastEnd = Date.now();
        if (notifies) this.lastNotification = this.lastEnd;
      }
    });
    this.tail = next.catch(() => {});
    return next;
  }
}

// One queue per credential (token, or App installation) and base URL, shared by every
// client made for it, so two jobs on the same installation still write one at a time.
const writeQueues = new Map<string, WriteQueue>();
function writeQueueFor(apiUrl: string, options: GitHubClientOptions): WriteQueue {
  const who = options.auth.type === "token" ? `token:${createHash("sha256").update(options.auth.token).digest("hex")}` : `app:${options.auth.appId}:${options.auth.installationId ?? "app"}`;
  const key = `${apiUrl}|${who}|${options.writePauseMs ?? 1000}|${options.notificationPauseMs ?? 3000}`;
  let queue = writeQueues.get(key);
  if (!queue) {
    queue = new WriteQueue(options.writePauseMs ?? 1000, options.notificationPauseMs ?? 3000);
    writeQueues.set(key, queue);
  }
  return queue;
}

// The throttling plugin's own write and notification limiters (1 s and 3 s apart,
// shared process-wide) are replaced by WriteQueue, which also waits for the previous
// write to finish and takes its pauses from the options.
const notifyingWrite = /\/(pulls|issues)(\/[^/]+\/(comments|reviews))?$/;
const passThroughWriteLimiter = { key: () => ({ schedule: <T>(_options: unknown, fn: () => Promise<T>) => fn() }) };

export type RepositoryInfo = {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
  private: boolean;
  archived: boolean;
  htmlUrl: string;
};

export type ChangedFile = { path: string; status: string; previousPath?: string };

/** A client bound to one credential (a token or one App installation). */
export type GitHubClient = {
  readonly octokit: GitHubOctokit;
  readonly apiUrl: string;
  readonly auth: GitHubAuth;
  /** For App auth: a client acting as the given installation. */
  forInstallation(installationId: number): GitHubClient;
  /** For App auth: the installation that covers a repository. */
  installationFor(owner: string, repo: string): Promise<number>;
  listInstallations(): Promise<{ id: number; account: string }[]>;
  /** The repositories this installation (App) can see. */
  listInstallationRepositories(): Promise<RepositoryInfo[]>;
  getRepository(owner: string, repo: string): Promise<RepositoryInfo>;
  /** Default branch (or `branch`) and its head commit sha. */
  resolveHead(owner: string, repo: string, branch?: string): Promise<{ branch: string; sha: string }>;
  /** Files changed between two commits (three-dot compare, like a pull request). */
  changedFiles(owner: string, repo: string, base: string, head: string): Promise<ChangedFile[]>;
  /** One file's text at a commit, or null when it is not there. */
  readFile(owner: string, repo: string, sha: string, path: string): Promise<string | null>;
  /** The repository's Poolguard config at a commit (first of poolguard.yml, .poolguard.yml, .github/poolguard.yml). */
  readConfigFile(owner: string, repo: string, sha: string): Promise<{ path: string; text: string } | null>;
  /** Where the tarball of a commit can be downloaded (short-lived for private repositories). */
  tarballUrl(owner: string, repo: string, sha: string): Promise<string>;
  /** Number of write calls sent by this client (for logs and tests). */
  writeCount(): number;
};

export const configFileNames = ["poolguard.yml", ".poolguard.yml", ".github/poolguard.yml"] as const;

export function isCommitSha(value: string): boolean {
  return /^[0-9a-f]{40}$/.test(value) || /^[0-9a-f]{64}$/.test(value);
}

function repositoryInfo(r: { id: number; name: string; full_name: string; owner: { login: string }; default_branch?: string; private: boolean; archived?: boolean; html_url: string }): RepositoryInfo {
  return {
    id: r.id,
    owner: r.owner.login,
    name: r.name,
    fullName: r.full_name,
    defaultBranch: r.default_branch ?? "main",
    private: r.private,
    archived: Boolean(r.archived),
    htmlUrl: r.html_url,
  };
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const apiUrl = (options.apiUrl ?? defaultApiUrl).replace(/\/+$/, "");
  const log = options.log ?? silentLog;
  const safeLog: GitHubLogger = {
    debug: (m) => log.debug(redact(m)),
    info: (m) => log.info(redact(m)),
    warn: (m) => log.warn(redact(m)),
    error: (m) => log.error(redact(m)),
  };
  if (options.auth.type === "token") registerSecret(options.auth.token);
  else registerSecret(options.auth.privateKey);
  const queue = writeQueueFor(apiUrl, options);
  let writes = 0;
  const rateLimitRetries = options.rateLimitRetries ?? 4;
  const maxWait = options.maxRateLimitWaitSeconds ?? 3600;
  const onLimit =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      if (retryCount >= rateLimitRetries || retryAfter > maxWait) {
        safeLog.error(`GitHub ${kind} rate limit on ${request.method} ${request.url}: giving up after ${retryCount} waits (retry-after ${retryAfter} s)`);
        return false;
      }
      safeLog.warn(`GitHub ${kind} rate limit on ${request.method} ${request.url}: waiting ${retryAfter} s before retrying`);
      return true;
    };

  const authOptions =
    options.auth.type === "token"
      ? { auth: options.auth.token }
      : {
          authStrategy: createAppAuth,
          auth: {
            appId: options.auth.appId,
            privateKey: options.auth.privateKey,
            ...(options.auth.installationId !== undefined ? { installationId: options.auth.installationId } : {}),
            cache: options.tokenRefreshMarginMs === undefined ? sharedTokenCache : new InstallationTokenCache(options.tokenRefreshMarginMs),
          },
        };

  const octokit = new PluggedOctokit({
    ...authOptions,
    baseUrl: apiUrl,
    userAgent: options.userAgent ?? "poolguard",
    log: safeLog,
    throttle: {
      onRateLimit: onLimit("primary"),
      onSecondaryRateLimit: onLimit("secondary"),
      retryAfterBaseValue: options.rateLimitUnitMs ?? 1000,
      fallbackSecondaryRateRetryAfter: 60,
      write: passThroughWriteLimiter,
      notifications: passThroughWriteLimiter,
    },
    retry: { retries: options.retries ?? 3, retryAfterBaseValue: options.retryBaseMs ?? 1000 },
  } as unknown as ConstructorParameters<typeof PluggedOctokit>[0]);

  octokit.hook.wrap("request", (request, requestOptions) => {
    const method = String(requestOptions.method).toUpperCase();
    const url = String(requestOptions.url);
    if (method === "GET" || method === "HEAD" || /\/access_tokens$/.test(url)) return request(requestOptions);
    const notifies = method === "POST" && notifyingWrite.test(new URL(url, "http://github.invalid").pathname);
    return queue.run(async () => {
      writes++;
      return await request(requestOptions);
    }, notifies);
  });

  const client: GitHubClient = {
    octokit,
    apiUrl,
    auth: options.auth,
    writeCount: () => writes,

    forInstallation(installationId) {
      if (options.auth.type !== "app") throw new GitHubConfigError("forInstallation needs GitHub App credentials");
      return createGitHubClient({ ...options, auth: { ...options.auth, installationId } });
    },

    async installationFor(owner, repo) {
      if (options.auth.type !== "app") throw new GitHubConfigError("installationFor needs GitHub App credentials");
      const { data } = await octokit.rest.apps.getRepoInstallation({ owner, repo });
      return data.id;
    },

    async listInstallations() {
      const items = await octokit.paginate(octokit.rest.apps.listInstallations, { per_page: 100 });
      return items.map((i) => ({ id: i.id, account: (i.account as { login?: string } | null)?.login ?? "" }));
    },

    async listInstallationRepositories() {
      const repos = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
      return (repos as Parameters<typeof repositoryInfo>[0][]).map(repositoryInfo);
    },

    async getRepository(owner, repo) {
      const { data } = await octokit.rest.repos.get({ owner, repo });
      return repositoryInfo(data);
    },

    async resolveHead(owner, repo, branch) {
      const name = branch ?? (await client.getRepository(owner, repo)).defaultBranch;
      const { data } = await octokit.rest.git.getRef({ owner, repo, ref: `heads/${name}` });
      return { branch: name, sha: data.object.sha };
    },

    async changedFiles(owner, repo, base, head) {
      const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${base}...${head}`, per_page: 100 });
      return (data.files ?? []).map((f) => ({ path: f.filename, status: f.status, ...(f.previous_filename ? { previousPath: f.previous_filename } : {}) }));
    },

    async readFile(owner, repo, sha, path) {
      try {
        const { data } = await octokit.rest.repos.getContent({ owner, repo, path, ref: sha });
        if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return null;
        return Buffer.from(data.content, "base64").toString("utf8");
      } catch (error) {
        if ((error as { status?: number }).status === 404) return null;
        throw error;
      }
    },

    async readConfigFile(owner, repo, sha) {
      if (!isCommitSha(sha)) throw new GitHubConfigError(`readConfigFile wants a commit sha, not "${sha}"`);
      for (const path of configFileNames) {
        const text = await client.readFile(owner, repo, sha, path);
        if (text !== null) return { path, text };
      }
      return null;
    },

    async tarballUrl(owner, repo, sha) {
      // A branch name could move between scan and fix: only a commit sha is accepted.
      if (!isCommitSha(sha)) throw new GitHubConfigError(`tarballs are downloaded by commit sha, not "${sha}"`);
      const response = await octokit.rest.repos.downloadTarballArchive({ owner, repo, ref: sha, request: { redirect: "manual" } });
      const location = (response.headers as Record<string, string | undefined>).location;
      if (!location) throw new Error(`GitHub answered the tarball request for ${owner}/${repo}@${sha} without a download location`);
      return new URL(location, apiUrl).toString();
    },
  };
  return client;
}

/** A client from GITHUB_TOKEN / GITHUB_APP_* and GITHUB_API_URL. */
export function githubClientFromEnv(env: Env = process.env, extra: Partial<GitHubClientOptions> & { preferToken?: boolean } = {}): GitHubClient {
  return createGitHubClient({ apiUrl: apiUrlFromEnv(env), ...extra, auth: extra.auth ?? githubAuthFromEnv(env, { preferToken: extra.preferToken }) });
}
