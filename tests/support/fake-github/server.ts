// A stateful fake GitHub that Octokit talks to over real HTTP on 127.0.0.1.
//
// Repositories are real bare git repositories (./git.ts); pull requests, comments,
// reviews, check runs, installations and tokens live in memory. Every response is
// checked against GitHub's REST description (./openapi.ts); a mismatch is recorded in
// `violations` and makes `stop()` reject, so a test that made the fake drift fails.
import { createVerify, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BareRepo, GitError, type Identity } from "./git.ts";
import { example, validateResponse } from "./openapi.ts";

export type Fault = {
  method?: string;
  /** Substring of (or pattern for) the API path, without the GHES prefix. */
  path: string | RegExp;
  status: number;
  /** Seconds, sent as retry-after (403/429 secondary limits). */
  retryAfter?: number;
  message?: string;
  /** How many requests it hits (default 1). */
  times?: number;
  /** Primary rate limit: x-ratelimit-remaining 0 and a reset this many seconds ahead. */
  primaryResetIn?: number;
};

export type LogEntry = { method: string; path: string; status: number; write: boolean; at: number };

type TokenInfo = { kind: "pat" | "installation" | "oauth"; login?: string; installationId?: number; expiresAt?: number };

type PullRequest = {
  id: number;
  number: number;
  title: string;
  body: string | null;
  head: string;
  base: string;
  state: "open" | "closed";
  merged: boolean;
  draft: boolean;
  user: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  /** Head sha frozen when the pull request closed (the branch may be deleted). */
  closedHeadSha: string | null;
  /** Set when the head branch lives in a fork (owner of the fork); see markFromFork. */
  forkOwner?: string;
};

type Comment = { id: number; issue: number; body: string; user: string; createdAt: string; updatedAt: string };
type Review = { id: number; pull: number; body: string; state: string; user: string; commitId: string; submittedAt: string };
type ReviewComment = { id: number; pull: number; reviewId: number | null; body: string; path: string; line: number; startLine: number | null; side: string; commitId: string; user: string; createdAt: string };
type CheckRun = {
  id: number;
  name: string;
  headSha: string;
  status: string;
  conclusion: string | null;
  startedAt: string;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations: unknown[] };
  externalId: string | null;
  detailsUrl: string | null;
};

type Repo = {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  defaultBranch: string;
  git: BareRepo;
  pulls: PullRequest[];
  comments: Comment[];
  reviews: Review[];
  reviewComments: ReviewComment[];
  checkRuns: CheckRun[];
  statuses: CommitStatus[];
};

type CommitStatus = { id: number; sha: string; state: string; context: string; description: string | null; targetUrl: string | null; createdAt: string; user: string };

type Installation = { id: number; account: string; repos: Set<string> };

type Ctx = {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  apiPath: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  params: string[];
  token: TokenInfo | null;
  jwtAppId: number | null;
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: unknown[],
  ) {
    super(message);
  }
}

const botIdentity: Identity = { name: "Fake GitHub", email: "noreply@github.test" };
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

export type FakeGitHubOptions = { pathPrefix?: string };

export class FakeGitHub {
  readonly violations: string[] = [];
  readonly log: LogEntry[] = [];
  readonly repos = new Map<string, Repo>();
  readonly installations = new Map<number, Installation>();
  readonly app: { id: number; slug: string; privateKey: string; publicKey: string; clientId: string; clientSecret: string };
  private readonly tokens = new Map<string, TokenInfo>();
  private readonly users = new Map<string, { id: number; login: string; type: "User" | "Bot" }>();
  private readonly oauthCodes = new Map<string, string>();
  /** Email addresses per login for GET /user/emails (default: one verified primary address). */
  readonly userEmails = new Map<string, { email: string; primary: boolean; verified: boolean }[]>();
  /** Who GET /login/oauth/authorize signs in (the browser tests' GitHub user); null: the person denies access. */
  authorizeAs: string | null = null;
  private readonly archiveTickets = new Map<string, { repo: string; sha: string; expires: number }>();
  private faults: (Fault & { left: number })[] = [];
  private holds: { method?: string; path: string | RegExp; arrived: () => void; gate: Promise<void>; released: boolean }[] = [];
  private server: Server | null = null;
  private readonly root = mkdtempSync(join(tmpdir(), "fake-github-"));
  private nextId = 1000;
  port = 0;

  constructor(readonly options: FakeGitHubOptions = {}) {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.app = {
      id: 424242,
      slug: "poolguard-test",
      privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
      clientId: "Iv1.fakeclient0001",
      clientSecret: randomBytes(20).toString("hex"),
    };
  }

  /** Origin, e.g. http://127.0.0.1:PORT */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What to pass as the API base URL (with the GHES prefix when configured). */
  get apiUrl(): string {
    return `${this.origin}${this.options.pathPrefix ?? ""}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        this.violations.push(`fake crashed on ${req.method} ${req.url}: ${(error as Error).stack}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once("error", reject);
      this.server?.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Stop the server, remove the repositories, and fail when any response broke the description. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
    rmSync(this.root, { recursive: true, force: true });
    if (this.violations.length > 0) throw new Error(`fake GitHub responses broke GitHub's REST description:\n${this.violations.join("\n")}`);
  }

  // ---- test set-up -------------------------------------------------------------

  user(login: string, type: "User" | "Bot" = "User") {
    let user = this.users.get(login);
    if (!user) {
      user = { id: this.nextId++, login, type };
      this.users.set(login, user);
    }
    return user;
  }

  /** A personal access token for `login`; length varies like real ones. */
  personalAccessToken(login: string): string {
    this.user(login);
    const token = `github_pat_${randomBytes(30).toString("base64url")}`;
    this.tokens.set(token, { kind: "pat", login });
    return token;
  }

  createInstallation(account: string, repos: string[]): number {
    const id = this.nextId++;
    this.user(account);
    this.installations.set(id, { id, account, repos: new Set(repos) });
    return id;
  }

  createRepository(input: { owner: string; name: string; files: Record<string, string>; private?: boolean; defaultBranch?: string }): Repo {
    const fullName = `${input.owner}/${input.name}`;
    const git = new BareRepo(join(this.root, `${input.owner}--${input.name}.git`));
    const defaultBranch = input.defaultBranch ?? "main";
    const repo: Repo = {
      id: this.nextId++,
      owner: input.owner,
      name: input.name,
      private: input.private ?? true,
      defaultBranch,
      git,
      pulls: [],
      comments: [],
      reviews: [],
      reviewComments: [],
      checkRuns: [],
      statuses: [],
    };
    this.user(input.owner);
    this.repos.set(fullName, repo);
    this.commitFiles(fullName, defaultBranch, input.files, { message: "Initial commit", author: { name: input.owner, email: `${input.owner}@users.github.test` } });
    return repo;
  }

  /** A push by someone (a human, CI): files set to null are deleted, { symlink } makes a link. Returns the new sha. */
  commitFiles(fullName: string, branch: string, files: Record<string, string | null | { symlink: string }>, input: { message: string; author: Identity }): string {
    const repo = this.repoOrThrow(fullName);
    const parent = repo.git.refSha(`refs/heads/${branch}`);
    const baseTree = parent ? repo.git.readCommit(parent).tree : undefined;
    const tree = repo.git.writeTree(
      Object.entries(files).map(([path, content]) => {
        if (content === null) return { path, mode: "100644", type: "blob" as const, sha: null };
        if (typeof content === "object") return { path, mode: "120000", type: "blob" as const, content: content.symlink };
        return { path, mode: "100644", type: "blob" as const, content };
      }),
      baseTree,
    );
    const sha = repo.git.writeCommit({ tree, parents: parent ? [parent] : [], message: input.message, author: input.author });
    repo.git.setRef(`refs/heads/${branch}`, sha);
    return sha;
  }

  readFile(fullName: string, ref: string, path: string): string | null {
    const repo = this.repoOrThrow(fullName);
    try {
      return repo.git.git(["cat-file", "blob", `${ref}:${path}`]);
    } catch {
      return null;
    }
  }

  branchSha(fullName: string, branch: string): string | null {
    return this.repoOrThrow(fullName).git.refSha(`refs/heads/${branch}`);
  }

  branches(fullName: string): string[] {
    return this.repoOrThrow(fullName)
      .git.git(["for-each-ref", "--format=%(refname:short)", "refs/heads/"])
      .split("\n")
      .filter(Boolean);
  }

  pulls(fullName: string): PullRequest[] {
    return this.repoOrThrow(fullName).pulls;
  }

  /** Close (or merge) a pull request as a person would in the UI. */
  closePullRequest(fullName: string, number: number, options: { merge?: boolean } = {}): void {
    const repo = this.repoOrThrow(fullName);
    const pull = repo.pulls.find((p) => p.number === number);
    if (!pull) throw new Error(`no pull request #${number}`);
    const headSha = repo.git.refSha(`refs/heads/${pull.head}`);
    if (options.merge && headSha) {
      const base = repo.git.refSha(`refs/heads/${pull.base}`) as string;
      const tree = repo.git.readCommit(headSha).tree;
      const merge = repo.git.writeCommit({ tree, parents: [base, headSha], message: `Merge pull request #${number}`, author: botIdentity });
      repo.git.setRef(`refs/heads/${pull.base}`, merge);
      pull.merged = true;
      pull.mergedAt = now();
    }
    pull.state = "closed";
    pull.closedAt = now();
    pull.closedHeadSha = headSha;
    pull.updatedAt = now();
  }

  /** Make a pull request look as if its head branch lived in `forkOwner`'s fork. */
  markFromFork(fullName: string, number: number, forkOwner: string): void {
    const pull = this.repoOrThrow(fullName).pulls.find((p) => p.number === number);
    if (!pull) throw new Error(`no pull request #${number}`);
    this.user(forkOwner);
    pull.forkOwner = forkOwner;
  }

  /** Commit statuses posted for a sha, newest first. */
  commitStatuses(fullName: string, sha: string): CommitStatus[] {
    return this.repoOrThrow(fullName).statuses.filter((s) => s.sha === sha).reverse();
  }

  /**
   * Hold matching API requests (no answer) until `release()`: `arrived` resolves when
   * the first one comes in. For tests that stop a client while a call is under way.
   */
  holdRequests(match: { method?: string; path: string | RegExp }): { arrived: Promise<void>; release: () => void } {
    let arrived!: () => void;
    let open!: () => void;
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const hold = { ...match, arrived, gate, released: false };
    this.holds.push(hold);
    return {
      arrived: arrival,
      release: () => {
        hold.released = true;
        open();
      },
    };
  }

  injectFault(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  writeCount(): number {
    return this.log.filter((e) => e.write).length;
  }

  writes(): LogEntry[] {
    return this.log.filter((e) => e.write);
  }

  clearLog(): void {
    this.log.length = 0;
  }

  /** A one-time OAuth code that signs `login` in (what GitHub sends to the callback). */
  oauthCode(login: string): string {
    this.user(login);
    const code = randomBytes(10).toString("hex");
    this.oauthCodes.set(code, login);
    return code;
  }

  /** The addresses GET /user/emails lists for `login`. */
  setUserEmails(login: string, emails: { email: string; primary?: boolean; verified?: boolean }[]): void {
    this.user(login);
    this.userEmails.set(
      login,
      emails.map((e, i) => ({ email: e.email, primary: e.primary ?? i === 0, verified: e.verified ?? true })),
    );
  }

  // ---- HTTP ----------------------------------------------------------------------

  private repoOrThrow(fullName: string): Repo {
    const repo = this.repos.get(fullName);
    if (!repo) throw new Error(`fake GitHub has no repository ${fullName}`);
    return repo;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const method = (req.method ?? "GET").toUpperCase();
    const raw = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks)));
    });

    if (url.pathname.startsWith("/_codeload/")) return this.serveArchive(url, res);
    if (url.pathname === "/login/oauth/access_token" && method === "POST") return this.oauthExchange(req, raw, res);
    if (url.pathname === "/login/oauth/authorize" && method === "GET") return this.oauthAuthorize(url, res);

    const prefix = this.options.pathPrefix ?? "";
    if (!url.pathname.startsWith(`${prefix}/`)) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not an API path");
      return;
    }
    const apiPath = url.pathname.slice(prefix.length);
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return this.send({ method, apiPath, res }, 400, { message: "Problems parsing JSON", documentation_url: "https://docs.github.com/rest" });
      }
    }
    const write = method !== "GET" && method !== "HEAD" && !/\/access_tokens$/.test(apiPath);

    const hold = this.holds.find((h) => !h.released && (!h.method || h.method === method) && (typeof h.path === "string" ? apiPath.includes(h.path) : h.path.test(apiPath)));
    if (hold) {
      hold.arrived();
      await hold.gate;
    }
    const fault = this.faults.find((f) => f.left > 0 && (!f.method || f.method === method) && (typeof f.path === "string" ? apiPath.includes(f.path) : f.path.test(apiPath)));
    if (fault) {
      fault.left--;
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
      if (fault.primaryResetIn !== undefined) {
        headers["x-ratelimit-remaining"] = "0";
        headers["x-ratelimit-reset"] = String(Math.ceil(Date.now() / 1000) + fault.primaryResetIn);
      }
      const message =
        fault.message ??
        (fault.status === 403 && fault.primaryResetIn === undefined
          ? "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
          : fault.status === 403
            ? "API rate limit exceeded for installation."
            : fault.status === 422
              ? "Validation Failed"
              : "Server Error");
      this.log.push({ method, path: apiPath, status: fault.status, write, at: Date.now() });
      return this.send({ method, apiPath, res, injected: true }, fault.status, { message, documentation_url: "https://docs.github.com/rest" }, headers);
    }

    const ctx: Ctx = { req, res, method, apiPath, query: url.searchParams, body, params: [], token: null, jwtAppId: null };
    let status = 500;
    try {
      this.authenticate(ctx);
      const result = await this.route(ctx);
      status = result.status;
      this.log.push({ method, path: apiPath, status, write, at: Date.now() });
      return this.send({ method, apiPath, res }, result.status, result.body, result.headers);
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        this.log.push({ method, path: apiPath, status, write, at: Date.now() });
        const payload: Record<string, unknown> = { message: error.message, documentation_url: "https://docs.github.com/rest", status: String(error.status) };
        if (error.errors) payload.errors = error.errors;
        return this.send({ method, apiPath, res }, error.status, payload);
      }
      throw error;
    }
  }

  private send(
    where: { method: string; apiPath: string; res: ServerResponse; injected?: boolean },
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const problems = validateResponse({ method: where.method, path: where.apiPath, status, body, injectedFault: where.injected });
    this.violations.push(...problems);
    const base: Record<string, string> = {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4999",
      "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 3600),
      "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(),
      ...headers,
    };
    if (body === undefined) {
      where.res.writeHead(status, base).end();
      return;
    }
    where.res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...base }).end(JSON.stringify(body));
  }

  private authenticate(ctx: Ctx): void {
    const header = ctx.req.headers.authorization ?? "";
    const m = /^(token|bearer)\s+(.+)$/i.exec(header);
    if (!m) return;
    const credential = m[2].trim();
    if (credential.split(".").length === 3 && credential.startsWith("ey")) {
      ctx.jwtAppId = this.verifyJwt(credential);
      return;
    }
    const info = this.tokens.get(credential);
    if (!info || (info.expiresAt !== undefined && info.expiresAt < Date.now())) throw new HttpError(401, "Bad credentials");
    ctx.token = info;
  }

  private verifyJwt(jwt: string): number {
    const [header, payload, signature] = jwt.split(".");
    const verifier = createVerify("RSA-SHA256");
    verifier.update(`${header}.${payload}`);
    if (!verifier.verify(this.app.publicKey, Buffer.from(signature, "base64url"))) throw new HttpError(401, "A JSON web token could not be decoded");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { iss?: string | number; iat?: number; exp?: number };
    const seconds = Date.now() / 1000;
    if (String(claims.iss) !== String(this.app.id)) throw new HttpError(401, "'Issuer' claim ('iss') must be an Integer");
    if (!claims.exp || claims.exp < seconds) throw new HttpError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
    if (!claims.iat || claims.exp - claims.iat > 660) throw new HttpError(401, "'Expiration time' claim ('exp') is too far in the future");
    return this.app.id;
  }

  private requireToken(ctx: Ctx): TokenInfo {
    if (!ctx.token) throw new HttpError(401, "Requires authentication");
    return ctx.token;
  }

  private requireApp(ctx: Ctx): void {
    if (ctx.jwtAppId === null) throw new HttpError(401, "A JSON web token could not be decoded");
  }

  private repoFor(ctx: Ctx, owner: string, name: string): Repo {
    const fullName = `${owner}/${name}`;
    const repo = this.repos.get(fullName);
    const token = this.requireToken(ctx);
    if (!repo) throw new HttpError(404, "Not Found");
    if (token.kind === "installation") {
      const installation = this.installations.get(token.installationId as number);
      if (!installation?.repos.has(fullName)) throw new HttpError(404, "Not Found");
    }
    return repo;
  }

  private async route(ctx: Ctx): Promise<{ status: number; body?: unknown; headers?: Record<string, string> }> {
    const routes: [string, RegExp, (ctx: Ctx) => { status: number; body?: unknown; headers?: Record<string, string> }][] = [
      ["GET", /^\/user$/, (c) => this.getUser(c)],
      ["GET", /^\/user\/emails$/, (c) => this.listUserEmails(c)],
      ["GET", /^\/app\/installations$/, (c) => this.listInstallations(c)],
      ["POST", /^\/app\/installations\/(\d+)\/access_tokens$/, (c) => this.createInstallationToken(c)],
      ["GET", /^\/installation\/repositories$/, (c) => this.listInstallationRepos(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/installation$/, (c) => this.getRepoInstallation(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)$/, (c) => this.getRepo(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/tarball\/(.+)$/, (c) => this.tarball(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/compare\/(.+)$/, (c) => this.compare(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/, (c) => this.contents(c)],
      ["POST", /^\/repos\/([^/]+)\/([^/]+)\/git\/blobs$/, (c) => this.createBlob(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/git\/blobs\/([0-9a-f]{40})$/, (c) => this.getBlob(c)],
      ["POST", /^\/repos\/([^/]+)\/([^/]+)\/git\/trees$/, (c) => this.createTree(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/git\/trees\/([^/]+)$/, (c) => this.getTree(c)],
      ["POST", /^\/repos\/([^/]+)\/([^/]+)\/git\/commits$/, (c) => this.createCommit(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/git\/commits\/([0-9a-f]{40})$/, (c) => this.getCommit(c)],
      ["POST", /^\/repos\/([^/]+)\/([^/]+)\/git\/refs$/, (c) => this.createRef(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/git\/ref\/(.+)$/, (c) => this.getRef(c)],
      ["PATCH", /^\/repos\/([^/]+)\/([^/]+)\/git\/refs\/(.+)$/, (c) => this.updateRef(c)],
      ["DELETE", /^\/repos\/([^/]+)\/([^/]+)\/git\/refs\/(.+)$/, (c) => this.deleteRef(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/pulls$/, (c) => this.listPulls(c)],
      ["POST", /^\/repos\/([^/]+)\/([^/]+)\/pulls$/, (c) => this.createPull(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/, (c) => this.getPull(c)],
      ["PATCH", /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/, (c) => this.updatePull(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/files$/, (c) => this.pullFiles(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/commits$/, (c) => this.pullCommits(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/reviews$/, (c) => this.listReviews(c)],
      ["POST", /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/reviews$/, (c) => this.createReview(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/comments$/, (c) => this.listReviewComments(c)],
      ["POST", /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/comments$/, (c) => this.createReviewComment(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, (c) => this.listComments(c)],
      ["POST", /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, (c) => this.createComment(c)],
      ["PATCH", /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/, (c) => this.updateComment(c)],
      ["PATCH", /^\/repos\/([^/]+)\/([^/]+)\/pulls\/comments\/(\d+)$/, (c) => this.updateReviewComment(c)],
      ["POST", /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/, (c) => this.createStatus(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/statuses$/, (c) => this.listStatuses(c)],
      ["POST", /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/, (c) => this.createCheckRun(c)],
      ["PATCH", /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/, (c) => this.updateCheckRun(c)],
      ["GET", /^\/repos\/([^/]+)\/([^/]+)\/commits\/(.+)\/check-runs$/, (c) => this.listCheckRuns(c)],
    ];
    for (const [method, pattern, handler] of routes) {
      if (method !== ctx.method) continue;
      const m = pattern.exec(ctx.apiPath);
      if (!m) continue;
      ctx.params = m.slice(1).map((p) => decodeURIComponent(p));
      try {
        return handler(ctx);
      } catch (error) {
        if (error instanceof GitError) throw new HttpError(422, error.message.split("\n")[0]);
        throw error;
      }
    }
    throw new HttpError(404, "Not Found");
  }

  // ---- object builders (examples from the description, overlaid with our state) ----

  private userJson(login: string) {
    const user = this.user(login);
    const u = structuredClone(example<Record<string, unknown>>("pull-request").user) as Record<string, unknown>;
    const html = `${this.origin}/${login}`;
    return {
      ...u,
      login,
      id: user.id,
      node_id: Buffer.from(`U_${user.id}`).toString("base64"),
      type: user.type,
      html_url: html,
      url: `${this.apiUrl}/users/${login}`,
      site_admin: false,
    };
  }

  private repoJson(repo: Repo, shape: "full" | "simple" = "full") {
    const base = shape === "full" ? example<Record<string, unknown>>("full-repository-default-response") : (example<{ repositories: Record<string, unknown>[] }>("repository-paginated-2").repositories[0] as Record<string, unknown>);
    for (const key of ["source", "parent", "template_repository", "organization"]) delete base[key];
    const fullName = `${repo.owner}/${repo.name}`;
    return {
      ...base,
      id: repo.id,
      node_id: Buffer.from(`R_${repo.id}`).toString("base64"),
      name: repo.name,
      full_name: fullName,
      owner: this.userJson(repo.owner),
      private: repo.private,
      visibility: repo.private ? "private" : "public",
      default_branch: repo.defaultBranch,
      html_url: `${this.origin}/${fullName}`,
      url: `${this.apiUrl}/repos/${fullName}`,
      language: null,
      archived: false,
      disabled: false,
      fork: false,
    };
  }

  private pullJson(repo: Repo, pull: PullRequest, shape: "full" | "simple") {
    const base = shape === "full" ? example<Record<string, unknown>>("pull-request") : (example<Record<string, unknown>[]>("pull-request-simple-items")[0] as Record<string, unknown>);
    const headSha = pull.state === "open" ? (repo.git.refSha(`refs/heads/${pull.head}`) ?? pull.closedHeadSha) : (pull.closedHeadSha ?? repo.git.refSha(`refs/heads/${pull.head}`));
    const baseSha = repo.git.refSha(`refs/heads/${pull.base}`) as string;
    const repoJson = this.repoJson(repo, "simple");
    const end = (branch: string, sha: string | null) => ({
      label: `${repo.owner}:${branch}`,
      ref: branch,
      sha: sha ?? "0000000000000000000000000000000000000000",
      user: this.userJson(repo.owner),
      repo: repoJson,
    });
    const forkEnd = (branch: string, sha: string | null) => {
      const owner = pull.forkOwner as string;
      const forkRepo = { ...repoJson, id: repo.id + 500_000, node_id: Buffer.from(`R_${repo.id + 500_000}`).toString("base64"), full_name: `${owner}/${repo.name}`, owner: this.userJson(owner), fork: true, html_url: `${this.origin}/${owner}/${repo.name}`, url: `${this.apiUrl}/repos/${owner}/${repo.name}` };
      return { ...end(branch, sha), label: `${owner}:${branch}`, user: this.userJson(owner), repo: forkRepo };
    };
    const url = `${this.apiUrl}/repos/${repo.owner}/${repo.name}/pulls/${pull.number}`;
    const json: Record<string, unknown> = {
      ...base,
      id: pull.id,
      node_id: Buffer.from(`PR_${pull.id}`).toString("base64"),
      number: pull.number,
      url,
      html_url: `${this.origin}/${repo.owner}/${repo.name}/pull/${pull.number}`,
      state: pull.state,
      title: pull.title,
      body: pull.body,
      user: this.userJson(pull.user),
      draft: pull.draft,
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.closedAt,
      merged_at: pull.mergedAt,
      head: pull.forkOwner ? forkEnd(pull.head, headSha) : end(pull.head, headSha),
      base: end(pull.base, baseSha),
      labels: [],
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      milestone: null,
      auto_merge: null,
      locked: false,
    };
    if (shape === "full") {
      const files = headSha ? repo.git.diff(repo.git.mergeBase(baseSha, headSha) ?? baseSha, headSha) : [];
      Object.assign(json, {
        merged: pull.merged,
        mergeable: pull.state === "open" ? true : null,
        mergeable_state: pull.state === "open" ? "clean" : "unknown",
        merged_by: pull.merged ? this.userJson(repo.owner) : null,
        commits: headSha ? repo.git.revList(`${baseSha}..${headSha}`).length : 0,
        changed_files: files.length,
        additions: files.reduce((n, f) => n + f.additions, 0),
        deletions: files.reduce((n, f) => n + f.deletions, 0),
        comments: repo.comments.filter((c) => c.issue === pull.number).length,
        review_comments: repo.reviewComments.filter((c) => c.pull === pull.number).length,
      });
    }
    return json;
  }

  private refJson(repo: Repo, fullRef: string, sha: string) {
    return {
      ref: fullRef,
      node_id: Buffer.from(`REF_${fullRef}`).toString("base64"),
      url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/git/${fullRef}`,
      object: { type: "commit", sha, url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/git/commits/${sha}` },
    };
  }

  private gitCommitJson(repo: Repo, sha: string) {
    const c = repo.git.readCommit(sha);
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    return {
      sha,
      node_id: Buffer.from(`C_${sha}`).toString("base64"),
      url: `${api}/git/commits/${sha}`,
      html_url: `${this.origin}/${repo.owner}/${repo.name}/commit/${sha}`,
      author: c.author,
      committer: c.committer,
      message: c.message,
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
      parents: c.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}`, html_url: `${this.origin}/${repo.owner}/${repo.name}/commit/${p}` })),
      verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
    };
  }

  private commitJson(repo: Repo, sha: string) {
    const c = repo.git.readCommit(sha);
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const base = example<Record<string, unknown>>("commit-comparison").commits as Record<string, unknown>[];
    const template = structuredClone(base[0]);
    return {
      ...template,
      sha,
      node_id: Buffer.from(`C_${sha}`).toString("base64"),
      url: `${api}/commits/${sha}`,
      html_url: `${this.origin}/${repo.owner}/${repo.name}/commit/${sha}`,
      comments_url: `${api}/commits/${sha}/comments`,
      commit: {
        ...(template.commit as Record<string, unknown>),
        url: `${api}/git/commits/${sha}`,
        author: c.author,
        committer: c.committer,
        message: c.message,
        tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
        comment_count: 0,
      },
      author: null,
      committer: null,
      parents: c.parents.map((p) => ({ sha: p, url: `${api}/commits/${p}`, html_url: `${this.origin}/${repo.owner}/${repo.name}/commit/${p}` })),
    };
  }

  private diffEntries(repo: Repo, base: string, head: string) {
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    return repo.git.diff(base, head).map((f) => ({
      sha: f.sha,
      filename: f.filename,
      status: f.status,
      additions: f.additions,
      deletions: f.deletions,
      changes: f.additions + f.deletions,
      blob_url: `${this.origin}/${repo.owner}/${repo.name}/blob/${head}/${f.filename}`,
      raw_url: `${this.origin}/${repo.owner}/${repo.name}/raw/${head}/${f.filename}`,
      contents_url: `${api}/contents/${f.filename}?ref=${head}`,
      patch: f.patch,
    }));
  }

  private paginate<T>(ctx: Ctx, items: T[]): { body: T[]; headers: Record<string, string> } {
    const perPage = Math.min(100, Number(ctx.query.get("per_page")) || 30);
    const page = Math.max(1, Number(ctx.query.get("page")) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const headers: Record<string, string> = {};
    if (page < last) {
      const link = (p: number) => {
        const q = new URLSearchParams(ctx.query);
        q.set("page", String(p));
        q.set("per_page", String(perPage));
        return `${this.apiUrl}${ctx.apiPath}?${q}`;
      };
      headers.link = `<${link(page + 1)}>; rel="next", <${link(last)}>; rel="last"`;
    }
    return { body: items.slice((page - 1) * perPage, page * perPage), headers };
  }

  // ---- handlers ------------------------------------------------------------------

  private getUser(ctx: Ctx) {
    const token = this.requireToken(ctx);
    if (!token.login) throw new HttpError(403, "Resource not accessible by integration");
    const base = example<Record<string, unknown>>("private-user-response-with-public-and-private-profile-information");
    return { status: 200, body: { ...base, ...this.userJson(token.login), name: token.login, email: `${token.login}@users.github.test` } };
  }

  private installationJson(installation: Installation) {
    const base = example<Record<string, unknown>>("installation");
    return {
      ...base,
      id: installation.id,
      account: this.userJson(installation.account),
      app_id: this.app.id,
      app_slug: this.app.slug,
      target_id: this.user(installation.account).id,
      target_type: "User",
      repository_selection: "selected",
      access_tokens_url: `${this.apiUrl}/app/installations/${installation.id}/access_tokens`,
      repositories_url: `${this.apiUrl}/installation/repositories`,
      html_url: `${this.origin}/settings/installations/${installation.id}`,
      suspended_at: null,
      suspended_by: null,
    };
  }

  private listInstallations(ctx: Ctx) {
    this.requireApp(ctx);
    // This operation's description types the account as user AND enterprise (allOf),
    // so the enterprise-only fields are filled in too.
    return {
      status: 200,
      body: [...this.installations.values()].map((i) => {
        const json = this.installationJson(i);
        return { ...json, account: { ...json.account, name: i.account, slug: i.account, created_at: "2020-01-01T00:00:00Z", updated_at: "2020-01-01T00:00:00Z", website_url: null, description: null } };
      }),
    };
  }

  private getRepoInstallation(ctx: Ctx) {
    this.requireApp(ctx);
    const fullName = `${ctx.params[0]}/${ctx.params[1]}`;
    const installation = [...this.installations.values()].find((i) => i.repos.has(fullName));
    if (!installation) throw new HttpError(404, "Not Found");
    return { status: 200, body: this.installationJson(installation) };
  }

  private createInstallationToken(ctx: Ctx) {
    this.requireApp(ctx);
    const installation = this.installations.get(Number(ctx.params[0]));
    if (!installation) throw new HttpError(404, "Not Found");
    // Real installation tokens are ghs_ + 36 characters today, but GitHub says the
    // length may change: vary it so nothing downstream assumes 40.
    const token = `ghs_${randomBytes(24 + Math.floor(Math.random() * 24)).toString("base64url")}`;
    const expiresAt = Date.now() + 3600_000;
    this.tokens.set(token, { kind: "installation", installationId: installation.id, expiresAt });
    const base = example<Record<string, unknown>>("installation-token");
    delete base.repositories;
    return {
      status: 201,
      body: { ...base, token, expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"), permissions: { contents: "write", pull_requests: "write", checks: "write", metadata: "read", statuses: "write" }, repository_selection: "selected" },
    };
  }

  private listInstallationRepos(ctx: Ctx) {
    const token = this.requireToken(ctx);
    if (token.kind !== "installation") throw new HttpError(403, "You must authenticate with an installation access token in order to list repositories for an installation.");
    const installation = this.installations.get(token.installationId as number) as Installation;
    const repos = [...installation.repos].map((n) => this.repos.get(n)).filter((r): r is Repo => Boolean(r));
    const page = this.paginate(ctx, repos.map((r) => this.repoJson(r, "simple")));
    return { status: 200, body: { total_count: repos.length, repository_selection: "selected", repositories: page.body }, headers: page.headers };
  }

  private getRepo(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    return { status: 200, body: this.repoJson(repo, "full") };
  }

  private tarball(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const sha = repo.git.resolve(ctx.params[2]);
    if (!sha) throw new HttpError(404, "Not Found");
    // Like codeload: a short-lived link that needs no authorization header.
    const ticket = randomBytes(16).toString("hex");
    this.archiveTickets.set(ticket, { repo: `${repo.owner}/${repo.name}`, sha, expires: Date.now() + 5 * 60_000 });
    return { status: 302, headers: { location: `${this.origin}/_codeload/${repo.owner}/${repo.name}/legacy.tar.gz/${sha}?token=${ticket}` } };
  }

  private serveArchive(url: URL, res: ServerResponse): void {
    const ticket = this.archiveTickets.get(url.searchParams.get("token") ?? "");
    if (!ticket || ticket.expires < Date.now()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
      return;
    }
    const repo = this.repoOrThrow(ticket.repo);
    const data = repo.git.archive(ticket.sha, `${repo.owner}-${repo.name}-${ticket.sha.slice(0, 7)}/`);
    res.writeHead(200, { "content-type": "application/x-gzip", "content-length": String(data.length) }).end(data);
  }

  private compare(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const m = /^(.+?)\.\.\.(.+)$/.exec(ctx.params[2]);
    if (!m) throw new HttpError(404, "Not Found");
    const base = repo.git.resolve(m[1]);
    const head = repo.git.resolve(m[2]);
    if (!base || !head) throw new HttpError(404, "Not Found");
    const mergeBase = repo.git.mergeBase(base, head) ?? base;
    const ahead = repo.git.revList(`${base}..${head}`);
    const behind = repo.git.revList(`${head}..${base}`);
    const status = ahead.length === 0 && behind.length === 0 ? "identical" : behind.length === 0 ? "ahead" : ahead.length === 0 ? "behind" : "diverged";
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const template = example<Record<string, unknown>>("commit-comparison");
    return {
      status: 200,
      body: {
        ...template,
        url: `${api}/compare/${m[1]}...${m[2]}`,
        html_url: `${this.origin}/${repo.owner}/${repo.name}/compare/${m[1]}...${m[2]}`,
        permalink_url: `${this.origin}/${repo.owner}/${repo.name}/compare/${base}...${head}`,
        diff_url: `${this.origin}/${repo.owner}/${repo.name}/compare/${m[1]}...${m[2]}.diff`,
        patch_url: `${this.origin}/${repo.owner}/${repo.name}/compare/${m[1]}...${m[2]}.patch`,
        base_commit: this.commitJson(repo, base),
        merge_base_commit: this.commitJson(repo, mergeBase),
        status,
        ahead_by: ahead.length,
        behind_by: behind.length,
        total_commits: ahead.length,
        commits: ahead.map((sha) => this.commitJson(repo, sha)),
        files: this.diffEntries(repo, mergeBase, head),
      },
    };
  }

  private contents(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const path = ctx.params[2].replace(/\/$/, "");
    const ref = ctx.query.get("ref") ?? repo.defaultBranch;
    const commit = repo.git.resolve(ref);
    if (!commit) throw new HttpError(404, `No commit found for the ref ${ref}`);
    const entries = repo.git.readTree(commit, true);
    const entry = entries.find((e) => e.path === path);
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const describe = (e: { path: string; sha: string; type: string; size?: number }) => {
      const name = e.path.slice(e.path.lastIndexOf("/") + 1);
      const self = `${api}/contents/${e.path}?ref=${ref}`;
      const git = `${api}/git/${e.type === "tree" ? "trees" : "blobs"}/${e.sha}`;
      const html = `${this.origin}/${repo.owner}/${repo.name}/${e.type === "tree" ? "tree" : "blob"}/${ref}/${e.path}`;
      return { name, path: e.path, sha: e.sha, size: e.size ?? 0, url: self, html_url: html, git_url: git, download_url: e.type === "tree" ? null : `${this.origin}/${repo.owner}/${repo.name}/raw/${ref}/${e.path}`, type: e.type === "tree" ? "dir" : "file", _links: { self, git, html } };
    };
    if (!entry) throw new HttpError(404, "Not Found");
    if (entry.type === "tree") {
      const children = entries.filter((e) => e.path.startsWith(`${path}/`) && !e.path.slice(path.length + 1).includes("/"));
      return { status: 200, body: children.map(describe) };
    }
    const content = repo.git.readBlob(entry.sha);
    return { status: 200, body: { ...describe(entry), encoding: "base64", content: content.toString("base64").replace(/(.{60})/g, "$1\n") } };
  }

  private createBlob(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const { content, encoding } = ctx.body as { content?: unknown; encoding?: unknown };
    if (typeof content !== "string") throw new HttpError(422, "Invalid request.\n\n\"content\" wasn't supplied.");
    if (encoding !== undefined && encoding !== "utf-8" && encoding !== "base64") throw new HttpError(422, `encoding must be utf-8 or base64`);
    const sha = repo.git.writeBlob(encoding === "base64" ? Buffer.from(content, "base64") : Buffer.from(content, "utf8"));
    return { status: 201, body: { sha, url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/git/blobs/${sha}` } };
  }

  private getBlob(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    if (!repo.git.exists(ctx.params[2], "blob")) throw new HttpError(404, "Not Found");
    const content = repo.git.readBlob(ctx.params[2]);
    const base = example<Record<string, unknown>>("blob");
    return { status: 200, body: { ...base, sha: ctx.params[2], size: content.length, content: content.toString("base64"), encoding: "base64", url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/git/blobs/${ctx.params[2]}`, node_id: Buffer.from(`B_${ctx.params[2]}`).toString("base64") } };
  }

  private treeJson(repo: Repo, sha: string, recursive: boolean) {
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    return {
      sha,
      url: `${api}/git/trees/${sha}`,
      truncated: false,
      tree: repo.git.readTree(sha, recursive).map((e) => ({ ...e, url: `${api}/git/${e.type === "tree" ? "trees" : "blobs"}/${e.sha}` })),
    };
  }

  private createTree(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const { tree, base_tree } = ctx.body as { tree?: unknown; base_tree?: unknown };
    if (!Array.isArray(tree)) throw new HttpError(422, "Invalid tree info", [{ resource: "Tree", code: "missing_field", field: "tree" }]);
    if (base_tree !== undefined && (typeof base_tree !== "string" || !repo.git.exists(base_tree, "tree"))) throw new HttpError(422, "Invalid tree info");
    const entries = tree.map((raw) => {
      const e = raw as { path?: string; mode?: string; type?: "blob" | "tree" | "commit"; sha?: string | null; content?: string };
      if (!e.path || e.path.startsWith("/") || e.path.split("/").some((s) => s === "" || s === "." || s === "..")) throw new HttpError(422, `tree.path contains a malformed path component`);
      if (!e.mode || !["100644", "100755", "040000", "160000", "120000"].includes(e.mode)) throw new HttpError(422, `tree.mode is not a valid mode`);
      if (e.sha !== undefined && e.content !== undefined) throw new HttpError(422, "Must supply either tree.sha or tree.content, not both");
      if (typeof e.sha === "string" && !repo.git.exists(e.sha)) throw new HttpError(422, `tree.sha ${e.sha} is not a valid ${e.type ?? "blob"}`);
      return { path: e.path, mode: e.mode, type: e.type ?? "blob", sha: e.sha, content: e.content };
    });
    const sha = repo.git.writeTree(entries, base_tree as string | undefined);
    return { status: 201, body: this.treeJson(repo, sha, false) };
  }

  private getTree(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const sha = repo.git.exists(ctx.params[2], "tree") ? ctx.params[2] : repo.git.resolve(ctx.params[2]);
    if (!sha) throw new HttpError(404, "Not Found");
    const treeSha = repo.git.exists(sha, "tree") ? sha : repo.git.readCommit(sha).tree;
    return { status: 200, body: this.treeJson(repo, treeSha, Boolean(ctx.query.get("recursive"))) };
  }

  private createCommit(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const { message, tree, parents, author, committer } = ctx.body as { message?: string; tree?: string; parents?: string[]; author?: Identity; committer?: Identity };
    if (typeof message !== "string") throw new HttpError(422, "Invalid request.\n\n\"message\" wasn't supplied.");
    if (!tree || !repo.git.exists(tree, "tree")) throw new HttpError(422, "Tree SHA does not exist");
    for (const p of parents ?? []) if (!repo.git.exists(p, "commit")) throw new HttpError(422, "Parent SHA does not exist or is not a commit object");
    const token = this.requireToken(ctx);
    const who = author ?? (token.login ? { name: token.login, email: `${token.login}@users.github.test` } : { name: `${this.app.slug}[bot]`, email: `${this.app.id}+${this.app.slug}[bot]@users.noreply.github.test` });
    const sha = repo.git.writeCommit({ tree, parents: parents ?? [], message, author: who, committer: committer ?? who });
    return { status: 201, body: this.gitCommitJson(repo, sha) };
  }

  private getCommit(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    if (!repo.git.exists(ctx.params[2], "commit")) throw new HttpError(404, "Not Found");
    return { status: 200, body: this.gitCommitJson(repo, ctx.params[2]) };
  }

  private createRef(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const { ref, sha } = ctx.body as { ref?: string; sha?: string };
    if (!ref || !/^refs\/(heads|tags)\/[^\s~^:?*[\\]+$/.test(ref) || ref.split("/").length < 3) throw new HttpError(422, "Reference name is not valid");
    if (!sha || !repo.git.exists(sha, "commit")) throw new HttpError(422, "Object does not exist");
    if (repo.git.refSha(ref)) throw new HttpError(422, "Reference already exists");
    repo.git.setRef(ref, sha);
    return { status: 201, body: this.refJson(repo, ref, sha) };
  }

  private getRef(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const fullRef = `refs/${ctx.params[2]}`;
    const sha = repo.git.refSha(fullRef);
    if (!sha) throw new HttpError(404, "Not Found");
    return { status: 200, body: this.refJson(repo, fullRef, sha) };
  }

  private updateRef(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const fullRef = `refs/${ctx.params[2]}`;
    const { sha, force } = ctx.body as { sha?: string; force?: boolean };
    const current = repo.git.refSha(fullRef);
    if (!current) throw new HttpError(422, "Reference does not exist");
    if (!sha || !repo.git.exists(sha, "commit")) throw new HttpError(422, "Object does not exist");
    if (!force && !repo.git.isAncestor(current, sha)) throw new HttpError(422, "Update is not a fast forward");
    repo.git.setRef(fullRef, sha);
    return { status: 200, body: this.refJson(repo, fullRef, sha) };
  }

  private deleteRef(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const fullRef = `refs/${ctx.params[2]}`;
    if (!repo.git.refSha(fullRef)) throw new HttpError(422, "Reference does not exist");
    repo.git.deleteRef(fullRef);
    return { status: 204 };
  }

  private pullOrThrow(repo: Repo, number: string): PullRequest {
    const pull = repo.pulls.find((p) => p.number === Number(number));
    if (!pull) throw new HttpError(404, "Not Found");
    return pull;
  }

  private listPulls(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const state = ctx.query.get("state") ?? "open";
    if (!["open", "closed", "all"].includes(state)) throw new HttpError(422, "Validation Failed", [{ resource: "Search", field: "state", code: "invalid" }]);
    const head = ctx.query.get("head");
    const base = ctx.query.get("base");
    const direction = ctx.query.get("direction") ?? "desc";
    let pulls = repo.pulls.filter((p) => state === "all" || p.state === state);
    if (head) {
      const [owner, branch] = head.includes(":") ? head.split(/:(.*)/s) : [repo.owner, head];
      pulls = pulls.filter((p) => owner === repo.owner && p.head === branch);
    }
    if (base) pulls = pulls.filter((p) => p.base === base);
    pulls = [...pulls].sort((a, b) => (direction === "asc" ? a.number - b.number : b.number - a.number));
    const page = this.paginate(
      ctx,
      pulls.map((p) => this.pullJson(repo, p, "simple")),
    );
    return { status: 200, body: page.body, headers: page.headers };
  }

  private createPull(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const { title, head, base, body, draft } = ctx.body as { title?: string; head?: string; base?: string; body?: string; draft?: boolean };
    if (!title) throw new HttpError(422, "Validation Failed", [{ resource: "PullRequest", field: "title", code: "missing_field" }]);
    const branch = head?.includes(":") ? head.split(":")[1] : head;
    if (!branch || !repo.git.refSha(`refs/heads/${branch}`)) throw new HttpError(422, "Validation Failed", [{ resource: "PullRequest", field: "head", code: "invalid" }]);
    if (!base || !repo.git.refSha(`refs/heads/${base}`)) throw new HttpError(422, "Validation Failed", [{ resource: "PullRequest", field: "base", code: "invalid" }]);
    if (repo.pulls.some((p) => p.state === "open" && p.head === branch && p.base === base)) {
      throw new HttpError(422, "Validation Failed", [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${repo.owner}:${branch}.` }]);
    }
    const headSha = repo.git.refSha(`refs/heads/${branch}`) as string;
    const baseSha = repo.git.refSha(`refs/heads/${base}`) as string;
    if (repo.git.isAncestor(headSha, baseSha)) throw new HttpError(422, "Validation Failed", [{ resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${branch}` }]);
    const token = this.requireToken(ctx);
    const number = repo.pulls.length + 1;
    const pull: PullRequest = {
      id: this.nextId++,
      number,
      title,
      body: body ?? null,
      head: branch,
      base,
      state: "open",
      merged: false,
      draft: Boolean(draft),
      user: token.login ?? `${this.app.slug}[bot]`,
      createdAt: now(),
      updatedAt: now(),
      closedAt: null,
      mergedAt: null,
      closedHeadSha: null,
    };
    if (!token.login) this.user(pull.user, "Bot");
    repo.pulls.push(pull);
    return { status: 201, body: this.pullJson(repo, pull, "full") };
  }

  private getPull(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    return { status: 200, body: this.pullJson(repo, this.pullOrThrow(repo, ctx.params[2]), "full") };
  }

  private updatePull(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const pull = this.pullOrThrow(repo, ctx.params[2]);
    const { title, body, state, base } = ctx.body as { title?: string; body?: string; state?: string; base?: string };
    if (state !== undefined && state !== "open" && state !== "closed") throw new HttpError(422, "Validation Failed", [{ resource: "PullRequest", field: "state", code: "invalid" }]);
    if (base !== undefined && !repo.git.refSha(`refs/heads/${base}`)) throw new HttpError(422, "Validation Failed", [{ resource: "PullRequest", field: "base", code: "invalid" }]);
    if (state === "open" && pull.state === "closed") {
      if (pull.merged) throw new HttpError(422, "Validation Failed", [{ resource: "PullRequest", code: "custom", message: "state cannot be changed. The pull request has been merged." }]);
      if (!repo.git.refSha(`refs/heads/${pull.head}`)) throw new HttpError(422, "Validation Failed", [{ resource: "PullRequest", code: "custom", message: "state cannot be changed. The head branch was deleted." }]);
    }
    if (title !== undefined) pull.title = title;
    if (body !== undefined) pull.body = body;
    if (base !== undefined) pull.base = base;
    if (state === "closed" && pull.state === "open") this.closePullRequest(`${repo.owner}/${repo.name}`, pull.number);
    if (state === "open") {
      pull.state = "open";
      pull.closedAt = null;
      pull.closedHeadSha = null;
    }
    pull.updatedAt = now();
    return { status: 200, body: this.pullJson(repo, pull, "full") };
  }

  private pullRange(repo: Repo, pull: PullRequest): { base: string; head: string } {
    const head = (pull.state === "open" ? repo.git.refSha(`refs/heads/${pull.head}`) : pull.closedHeadSha) ?? (repo.git.refSha(`refs/heads/${pull.base}`) as string);
    const baseSha = repo.git.refSha(`refs/heads/${pull.base}`) as string;
    return { base: repo.git.mergeBase(baseSha, head) ?? baseSha, head };
  }

  private pullFiles(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const range = this.pullRange(repo, this.pullOrThrow(repo, ctx.params[2]));
    const page = this.paginate(ctx, this.diffEntries(repo, range.base, range.head));
    return { status: 200, body: page.body, headers: page.headers };
  }

  private pullCommits(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const range = this.pullRange(repo, this.pullOrThrow(repo, ctx.params[2]));
    const page = this.paginate(
      ctx,
      repo.git.revList(`${range.base}..${range.head}`).map((sha) => this.commitJson(repo, sha)),
    );
    return { status: 200, body: page.body, headers: page.headers };
  }

  private commentJson(repo: Repo, c: Comment) {
    const base = example<Record<string, unknown>>("issue-comment");
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    return {
      ...base,
      id: c.id,
      node_id: Buffer.from(`IC_${c.id}`).toString("base64"),
      url: `${api}/issues/comments/${c.id}`,
      html_url: `${this.origin}/${repo.owner}/${repo.name}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${api}/issues/${c.issue}`,
      body: c.body,
      user: this.userJson(c.user),
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      author_association: "NONE",
    };
  }

  private listComments(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const issue = Number(ctx.params[2]);
    if (!repo.pulls.some((p) => p.number === issue)) throw new HttpError(404, "Not Found");
    const page = this.paginate(
      ctx,
      repo.comments.filter((c) => c.issue === issue).map((c) => this.commentJson(repo, c)),
    );
    return { status: 200, body: page.body, headers: page.headers };
  }

  private createComment(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const issue = Number(ctx.params[2]);
    const { body } = ctx.body as { body?: string };
    if (!repo.pulls.some((p) => p.number === issue)) throw new HttpError(404, "Not Found");
    if (!body) throw new HttpError(422, "Validation Failed", [{ resource: "IssueComment", field: "body", code: "missing_field" }]);
    const token = this.requireToken(ctx);
    const comment: Comment = { id: this.nextId++, issue, body, user: token.login ?? `${this.app.slug}[bot]`, createdAt: now(), updatedAt: now() };
    repo.comments.push(comment);
    return { status: 201, body: this.commentJson(repo, comment) };
  }

  private updateComment(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const comment = repo.comments.find((c) => c.id === Number(ctx.params[2]));
    if (!comment) throw new HttpError(404, "Not Found");
    const { body } = ctx.body as { body?: string };
    if (!body) throw new HttpError(422, "Validation Failed", [{ resource: "IssueComment", field: "body", code: "missing_field" }]);
    comment.body = body;
    comment.updatedAt = now();
    return { status: 200, body: this.commentJson(repo, comment) };
  }

  private reviewJson(repo: Repo, r: Review) {
    const base = example<Record<string, unknown>>("pull-request-review");
    return {
      ...base,
      id: r.id,
      node_id: Buffer.from(`PRR_${r.id}`).toString("base64"),
      user: this.userJson(r.user),
      body: r.body,
      state: r.state,
      commit_id: r.commitId,
      submitted_at: r.submittedAt,
      html_url: `${this.origin}/${repo.owner}/${repo.name}/pull/${r.pull}#pullrequestreview-${r.id}`,
      pull_request_url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/pulls/${r.pull}`,
      author_association: "NONE",
    };
  }

  private reviewCommentJson(repo: Repo, c: ReviewComment) {
    const base = example<Record<string, unknown>>("pull-request-review-comment-example-for-a-multi-line-comment");
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    return {
      ...base,
      id: c.id,
      node_id: Buffer.from(`PRRC_${c.id}`).toString("base64"),
      pull_request_review_id: c.reviewId,
      url: `${api}/pulls/comments/${c.id}`,
      html_url: `${this.origin}/${repo.owner}/${repo.name}/pull/${c.pull}#discussion_r${c.id}`,
      pull_request_url: `${api}/pulls/${c.pull}`,
      path: c.path,
      line: c.line,
      original_line: c.line,
      start_line: c.startLine,
      original_start_line: c.startLine,
      side: c.side,
      start_side: c.startLine ? c.side : null,
      commit_id: c.commitId,
      original_commit_id: c.commitId,
      body: c.body,
      user: this.userJson(c.user),
      created_at: c.createdAt,
      updated_at: c.createdAt,
      author_association: "NONE",
    };
  }

  /** Lines of the pull request's diff a comment may anchor to, per file and side. */
  private commentableLines(repo: Repo, pull: PullRequest): Map<string, { right: Set<number>; left: Set<number> }> {
    const range = this.pullRange(repo, pull);
    const result = new Map<string, { right: Set<number>; left: Set<number> }>();
    for (const file of repo.git.diff(range.base, range.head)) {
      const lines = { right: new Set<number>(), left: new Set<number>() };
      let left = 0;
      let right = 0;
      for (const line of file.patch.split("\n")) {
        const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
        if (hunk) {
          left = Number(hunk[1]);
          right = Number(hunk[2]);
          continue;
        }
        if (line.startsWith("+")) lines.right.add(right++);
        else if (line.startsWith("-")) lines.left.add(left++);
        else {
          lines.right.add(right++);
          lines.left.add(left++);
        }
      }
      result.set(file.filename, lines);
    }
    return result;
  }

  private checkAnchor(repo: Repo, pull: PullRequest, c: { path?: string; line?: number; side?: string; start_line?: number }, commentable = this.commentableLines(repo, pull)): void {
    const lines = commentable.get(c.path ?? "");
    const side = c.side === "LEFT" ? "left" : "right";
    const ok = lines && typeof c.line === "number" && lines[side].has(c.line) && (c.start_line === undefined || (c.start_line <= c.line && [...Array(c.line - c.start_line + 1).keys()].every((i) => lines[side].has((c.start_line as number) + i))));
    if (!ok) throw new HttpError(422, "Unprocessable Entity", ["Line could not be resolved"]);
  }

  private listReviews(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const pull = this.pullOrThrow(repo, ctx.params[2]);
    const page = this.paginate(
      ctx,
      repo.reviews.filter((r) => r.pull === pull.number).map((r) => this.reviewJson(repo, r)),
    );
    return { status: 200, body: page.body, headers: page.headers };
  }

  private createReview(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const pull = this.pullOrThrow(repo, ctx.params[2]);
    if (pull.state !== "open") throw new HttpError(422, "Unprocessable Entity", ["Can not add a review to a closed pull request"]);
    const { body, event, comments, commit_id } = ctx.body as { body?: string; event?: string; comments?: { path?: string; line?: number; side?: string; start_line?: number; body?: string }[]; commit_id?: string };
    // All or nothing, as on GitHub: one bad anchor fails the whole review.
    // The pull request's diff, computed once for all the review's anchors.
    const commentable = this.commentableLines(repo, pull);
    for (const c of comments ?? []) this.checkAnchor(repo, pull, c, commentable);
    const token = this.requireToken(ctx);
    const user = token.login ?? `${this.app.slug}[bot]`;
    const state = event === "APPROVE" ? "APPROVED" : event === "REQUEST_CHANGES" ? "CHANGES_REQUESTED" : event === "COMMENT" ? "COMMENTED" : "PENDING";
    const review: Review = { id: this.nextId++, pull: pull.number, body: body ?? "", state, user, commitId: commit_id ?? this.pullRange(repo, pull).head, submittedAt: now() };
    repo.reviews.push(review);
    for (const c of comments ?? []) {
      repo.reviewComments.push({ id: this.nextId++, pull: pull.number, reviewId: review.id, body: c.body ?? "", path: c.path as string, line: c.line as number, startLine: c.start_line ?? null, side: c.side ?? "RIGHT", commitId: review.commitId, user, createdAt: now() });
    }
    return { status: 200, body: this.reviewJson(repo, review) };
  }

  private listReviewComments(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const pull = this.pullOrThrow(repo, ctx.params[2]);
    const page = this.paginate(
      ctx,
      repo.reviewComments.filter((c) => c.pull === pull.number).map((c) => this.reviewCommentJson(repo, c)),
    );
    return { status: 200, body: page.body, headers: page.headers };
  }

  private createReviewComment(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const pull = this.pullOrThrow(repo, ctx.params[2]);
    const c = ctx.body as { path?: string; line?: number; side?: string; start_line?: number; body?: string; commit_id?: string };
    if (!c.body) throw new HttpError(422, "Validation Failed", [{ resource: "PullRequestReviewComment", field: "body", code: "missing_field" }]);
    this.checkAnchor(repo, pull, c);
    const token = this.requireToken(ctx);
    const comment: ReviewComment = { id: this.nextId++, pull: pull.number, reviewId: null, body: c.body, path: c.path as string, line: c.line as number, startLine: c.start_line ?? null, side: c.side ?? "RIGHT", commitId: c.commit_id ?? this.pullRange(repo, pull).head, user: token.login ?? `${this.app.slug}[bot]`, createdAt: now() };
    repo.reviewComments.push(comment);
    return { status: 201, body: this.reviewCommentJson(repo, comment) };
  }

  private updateReviewComment(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const comment = repo.reviewComments.find((c) => c.id === Number(ctx.params[2]));
    if (!comment) throw new HttpError(404, "Not Found");
    const { body } = ctx.body as { body?: string };
    if (!body) throw new HttpError(422, "Validation Failed", [{ resource: "PullRequestReviewComment", field: "body", code: "missing_field" }]);
    comment.body = body;
    return { status: 200, body: this.reviewCommentJson(repo, comment) };
  }

  private statusJson(repo: Repo, s: CommitStatus) {
    const base = example<Record<string, unknown>>("status");
    return {
      ...base,
      id: s.id,
      node_id: Buffer.from(`SC_${s.id}`).toString("base64"),
      url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/statuses/${s.sha}`,
      state: s.state,
      description: s.description,
      target_url: s.targetUrl,
      context: s.context,
      created_at: s.createdAt,
      updated_at: s.createdAt,
      creator: this.userJson(s.user),
    };
  }

  private createStatus(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const sha = ctx.params[2] as string;
    const { state, context, description, target_url } = ctx.body as { state?: string; context?: string; description?: string; target_url?: string };
    if (!state || !["error", "failure", "pending", "success"].includes(state)) throw new HttpError(422, "Validation Failed", [{ resource: "Status", field: "state", code: "invalid" }]);
    if (!repo.git.exists(sha, "commit")) throw new HttpError(422, "No commit found for SHA: " + sha);
    if (description && description.length > 140) throw new HttpError(422, "Validation Failed", [{ resource: "Status", field: "description", code: "custom", message: "description is too long (maximum is 140 characters)" }]);
    const token = this.requireToken(ctx);
    const status: CommitStatus = { id: this.nextId++, sha, state, context: context ?? "default", description: description ?? null, targetUrl: target_url ?? null, createdAt: now(), user: token.login ?? `${this.app.slug}[bot]` };
    repo.statuses.push(status);
    return { status: 201, body: this.statusJson(repo, status) };
  }

  private listStatuses(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const sha = repo.git.resolve(ctx.params[2] as string);
    const page = this.paginate(
      ctx,
      repo.statuses.filter((s) => s.sha === sha).reverse().map((s) => this.statusJson(repo, s)),
    );
    return { status: 200, body: page.body, headers: page.headers };
  }

  private checkRunJson(repo: Repo, run: CheckRun) {
    const base = example<Record<string, unknown>>("check-run");
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    return {
      ...base,
      id: run.id,
      node_id: Buffer.from(`CR_${run.id}`).toString("base64"),
      head_sha: run.headSha,
      external_id: run.externalId,
      url: `${api}/check-runs/${run.id}`,
      html_url: `${this.origin}/${repo.owner}/${repo.name}/runs/${run.id}`,
      details_url: run.detailsUrl,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      name: run.name,
      output: { title: run.output.title, summary: run.output.summary, text: run.output.text, annotations_count: run.output.annotations.length, annotations_url: `${api}/check-runs/${run.id}/annotations` },
      pull_requests: [],
    };
  }

  private applyCheckRunInput(run: CheckRun, input: Record<string, unknown>): void {
    const output = input.output as { title?: string; summary?: string; text?: string; annotations?: unknown[] } | undefined;
    if (output) {
      if ((output.annotations?.length ?? 0) > 50) throw new HttpError(422, "Validation Failed", [{ resource: "CheckRun", field: "annotations", code: "too_many" }]);
      for (const field of ["summary", "text"] as const) {
        if (output[field] && Buffer.byteLength(output[field] as string) > 65535) throw new HttpError(422, "Validation Failed", [{ resource: "CheckRun", field: `output.${field}`, code: "too_long" }]);
      }
      run.output = { title: output.title ?? run.output.title, summary: output.summary ?? run.output.summary, text: output.text ?? run.output.text, annotations: [...run.output.annotations, ...(output.annotations ?? [])] };
    }
    if (typeof input.status === "string") run.status = input.status;
    if (typeof input.conclusion === "string") {
      run.conclusion = input.conclusion;
      run.status = "completed";
    }
    if (run.status === "completed" && !run.completedAt) run.completedAt = (input.completed_at as string) ?? now();
    if (typeof input.details_url === "string") run.detailsUrl = input.details_url;
    if (typeof input.external_id === "string") run.externalId = input.external_id;
  }

  private createCheckRun(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const token = this.requireToken(ctx);
    // Only GitHub Apps may create check runs.
    if (token.kind !== "installation") throw new HttpError(403, "Resource not accessible by personal access token");
    const { name, head_sha } = ctx.body as { name?: string; head_sha?: string };
    if (!name || !head_sha || !repo.git.exists(head_sha, "commit")) throw new HttpError(422, "Validation Failed", [{ resource: "CheckRun", field: "head_sha", code: "invalid" }]);
    const run: CheckRun = { id: this.nextId++, name, headSha: head_sha, status: "queued", conclusion: null, startedAt: now(), completedAt: null, output: { title: null, summary: null, text: null, annotations: [] }, externalId: null, detailsUrl: null };
    this.applyCheckRunInput(run, ctx.body);
    repo.checkRuns.push(run);
    return { status: 201, body: this.checkRunJson(repo, run) };
  }

  private updateCheckRun(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const run = repo.checkRuns.find((r) => r.id === Number(ctx.params[2]));
    if (!run) throw new HttpError(404, "Not Found");
    this.applyCheckRunInput(run, ctx.body);
    return { status: 200, body: this.checkRunJson(repo, run) };
  }

  private listCheckRuns(ctx: Ctx) {
    const repo = this.repoFor(ctx, ctx.params[0], ctx.params[1]);
    const sha = repo.git.resolve(ctx.params[2]);
    const runs = repo.checkRuns.filter((r) => r.headSha === sha && (!ctx.query.get("check_name") || r.name === ctx.query.get("check_name")));
    return { status: 200, body: { total_count: runs.length, check_runs: runs.map((r) => this.checkRunJson(repo, r)) } };
  }

  /** GitHub's authorize page, answered at once as `authorizeAs` approving (or denying) the app. */
  private oauthAuthorize(url: URL, res: ServerResponse): void {
    const redirect = url.searchParams.get("redirect_uri");
    if (url.searchParams.get("client_id") !== this.app.clientId || !redirect) {
      res.writeHead(404, { "content-type": "text/plain" }).end("unknown client_id or no redirect_uri");
      return;
    }
    const target = new URL(redirect);
    const state = url.searchParams.get("state");
    if (this.authorizeAs) target.searchParams.set("code", this.oauthCode(this.authorizeAs));
    else target.searchParams.set("error", "access_denied");
    if (state !== null) target.searchParams.set("state", state);
    res.writeHead(302, { location: target.toString() }).end();
  }

  private listUserEmails(ctx: Ctx) {
    const token = this.requireToken(ctx);
    if (token.kind !== "oauth" || !token.login) throw new HttpError(403, "Resource not accessible by integration");
    const emails = this.userEmails.get(token.login) ?? [{ email: `${token.login}@users.github.test`, primary: true, verified: true }];
    return { status: 200, body: emails.map((e) => ({ ...e, visibility: e.primary ? "private" : null })) };
  }

  private oauthExchange(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    const text = raw.toString("utf8");
    const fields: Record<string, string> = (req.headers["content-type"] ?? "").includes("json") ? JSON.parse(text || "{}") : Object.fromEntries(new URLSearchParams(text));
    const reply = (body: Record<string, string>) => res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
    if (fields.client_id !== this.app.clientId || fields.client_secret !== this.app.clientSecret) {
      reply({ error: "incorrect_client_credentials", error_description: "The client_id and/or client_secret passed are incorrect." });
      return;
    }
    const login = this.oauthCodes.get(fields.code ?? "");
    if (!login) {
      reply({ error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
      return;
    }
    this.oauthCodes.delete(fields.code);
    const token = `ghu_${randomBytes(27).toString("base64url")}`;
    this.tokens.set(token, { kind: "oauth", login, expiresAt: Date.now() + 8 * 3600_000 });
    reply({ access_token: token, token_type: "bearer", scope: "" });
  }
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  return new FakeGitHub(options).start();
}
