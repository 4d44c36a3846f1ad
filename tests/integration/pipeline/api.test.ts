import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useFreshDatabase } from "../db/fresh-database.ts";
import { copyDemoRepository, tempDir } from "./helpers.ts";

// The REST API v1 through its real route handlers, on a real database: every
// endpoint, authentication and roles, validation, pagination, and that another
// organization's resources answer exactly like missing ones.

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response> | Response;

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
const roots = tempDir("api-roots");
const outside = tempDir("api-outside");
const saved = { REDIS_URL: process.env.REDIS_URL, POOLGUARD_LOCAL_ROOTS: process.env.POOLGUARD_LOCAL_ROOTS };
const tokens: Record<string, string> = {};
let routes: Record<string, Record<string, Handler>>;

async function call(route: string, method: string, path: string, options: { token?: string; body?: unknown; params?: Record<string, string>; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const request = new Request(`http://127.0.0.1:3000/api/v1${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  });
  const handler = routes[route][method];
  const response = await handler(request, { params: Promise.resolve(options.params ?? {}) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

beforeAll(async () => {
  // The database transport: queued scans wait in the database for a runner.
  delete process.env.REDIS_URL;
  // No GitHub credentials: adding a GitHub repository is "not supported" here.
  for (const key of ["GITHUB_TOKEN", "GITHUB_APP_ID"]) delete process.env[key];
  process.env.POOLGUARD_LOCAL_ROOTS = roots.dir;
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
  copyDemoRepository(join(roots.dir, "demo"));
  mkdirSync(join(roots.dir, "empty"));
  symlinkSync(outside.dir, join(roots.dir, "escape"));
  routes = {
    repositories: await import("../../../app/api/v1/repositories/route.ts"),
    repository: await import("../../../app/api/v1/repositories/[id]/route.ts"),
    scans: await import("../../../app/api/v1/repositories/[id]/scans/route.ts"),
    schedule: await import("../../../app/api/v1/repositories/[id]/schedule/route.ts"),
    uploads: await import("../../../app/api/v1/repositories/[id]/uploads/route.ts"),
    scan: await import("../../../app/api/v1/scans/[id]/route.ts"),
    cancel: await import("../../../app/api/v1/scans/[id]/cancel/route.ts"),
    findings: await import("../../../app/api/v1/findings/route.ts"),
    openapi: await import("../../../app/api/v1/openapi.json/route.ts"),
  } as unknown as Record<string, Record<string, Handler>>;
  const { issueApiToken } = await import("../../../lib/cli/admin.ts");
  const user = await db.createUser({ email: "api@example.test", name: "api" });
  const a = await db.createOrganization({ slug: "acme", name: "Acme", ownerUserId: user.id });
  const b = await db.createOrganization({ slug: "other", name: "Other", ownerUserId: user.id });
  for (const role of ["admin", "member", "viewer"] as const) tokens[role] = (await issueApiToken({ organizationId: a.id, role, name: role })).token;
  tokens.otherAdmin = (await issueApiToken({ organizationId: b.id, role: "admin", name: "other" })).token;
  const revoked = await issueApiToken({ organizationId: a.id, role: "admin", name: "revoked" });
  await db.revokeApiToken(a.id, revoked.id);
  tokens.revoked = revoked.token;
});
afterAll(async () => {
  await db.disconnectDatabase();
  await database.drop();
  if (saved.REDIS_URL !== undefined) process.env.REDIS_URL = saved.REDIS_URL;
  if (saved.POOLGUARD_LOCAL_ROOTS === undefined) delete process.env.POOLGUARD_LOCAL_ROOTS;
  else process.env.POOLGUARD_LOCAL_ROOTS = saved.POOLGUARD_LOCAL_ROOTS;
  roots.remove();
  outside.remove();
});

async function runQueuedScan(scanId: string) {
  const scanRepository = await import("../../../lib/jobs/scan-repository.ts");
  const log = { info: () => {}, error: () => {} };
  const dispatcher = { dispatchScan: async () => {} };
  return scanRepository.handle({ scanId }, { owner: "api-test", leaseMs: 30_000, heartbeatMs: 1000, signal: new AbortController().signal, dispatcher, log });
}

describe("REST API v1", () => {
  it("describes itself with an OpenAPI document listing every endpoint", async () => {
    const { status, body } = await call("openapi", "GET", "/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    expect(Object.keys(body.paths).sort()).toEqual(
      [
        "/findings",
        "/findings/{id}",
        "/openapi.json",
        "/repositories",
        "/repositories/{id}",
        "/repositories/{id}/scans",
        "/repositories/{id}/schedule",
        "/repositories/{id}/uploads",
        "/scans/{id}",
        "/scans/{id}/cancel",
      ].sort(),
    );
    // Token operations document the rate limit's answer; the public document itself does not.
    expect(body.paths["/findings/{id}"].patch.responses["429"].headers["Retry-After"]).toBeDefined();
    expect(body.paths["/openapi.json"].get.responses["429"]).toBeUndefined();
    expect(body.paths["/repositories"].post.requestBody.content["application/json"].schema.oneOf ?? body.paths["/repositories"].post.requestBody.content["application/json"].schema.anyOf).toHaveLength(3);
  });

  it("refuses missing, unknown and revoked tokens, and roles that may not act", async () => {
    const missing = await call("repositories", "GET", "/repositories");
    expect(missing).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
    expect(missing.headers.get("www-authenticate")).toMatch(/Bearer/);
    expect((await call("repositories", "GET", "/repositories", { token: "pgt_nope" })).status).toBe(401);
    expect((await call("repositories", "GET", "/repositories", { token: tokens.revoked })).status).toBe(401);
    const viewer = await call("repositories", "POST", "/repositories", { token: tokens.viewer, body: { provider: "local", path: join(roots.dir, "demo") } });
    expect(viewer).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    const member = await call("repositories", "POST", "/repositories", { token: tokens.member, body: { provider: "local", path: join(roots.dir, "demo") } });
    expect(member.status).toBe(403);
  });

  it("validates repositories: local paths only under the allowed roots, only https/ssh git URLs", async () => {
    const bad = async (body: unknown) => call("repositories", "POST", "/repositories", { token: tokens.admin, body });
    expect(await bad({ provider: "local", path: outside.dir })).toMatchObject({ status: 400, body: { error: { code: "invalid_repository" } } });
    expect((await bad({ provider: "local", path: join(roots.dir, "escape") })).status).toBe(400);
    expect((await bad({ provider: "local", path: `${roots.dir}/demo/../../` })).status).toBe(400);
    expect((await bad({ provider: "local", path: "relative/path" })).status).toBe(400);
    for (const url of ["file:///etc", "ext::sh -c touch% /tmp/pwned", "git://example.com/x.git", "http://example.com/x.git", "/srv/git/x", "--upload-pack=touch x"]) {
      expect((await bad({ provider: "git", url })).body.error.code, url).toBe("invalid_repository");
    }
    expect(await bad({ provider: "svn", url: "x" })).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    expect((await call("repositories", "POST", "/repositories", { token: tokens.admin, body: "{not json" })).body.error.code).toBe("invalid_json");
    expect(await bad({ provider: "github", fullName: "octo/cat" })).toMatchObject({ status: 501, body: { error: { code: "not_supported" } } });
    const git = await bad({ provider: "git", url: "https://git.example.com/team/app.git" });
    expect(git).toMatchObject({ status: 201, body: { provider: "git", name: "team/app", url: "https://git.example.com/team/app.git" } });
    const ssh = await bad({ provider: "git", url: "git@git.example.com:team/tool.git" });
    expect(ssh.status).toBe(201);
  });

  it("adds, lists with cursors, and reads repositories; another organization's is a 404", async () => {
    const created = await call("repositories", "POST", "/repositories", { token: tokens.admin, body: { provider: "local", path: join(roots.dir, "demo") } });
    expect(created).toMatchObject({ status: 201, body: { provider: "local", name: "demo", latestScan: null } });
    expect(created.headers.get("location")).toBe(`/api/v1/repositories/${created.body.id}`);
    const duplicate = await call("repositories", "POST", "/repositories", { token: tokens.admin, body: { provider: "local", path: join(roots.dir, "demo") } });
    expect(duplicate).toMatchObject({ status: 409, body: { error: { code: "conflict" } } });
    await call("repositories", "POST", "/repositories", { token: tokens.admin, body: { provider: "local", path: join(roots.dir, "empty") } });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await call("repositories", "GET", `/repositories?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: tokens.viewer });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((r: { id: string }) => r.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen.length).toBe(4); // two git repositories from the previous test, two local
    expect(new Set(seen).size).toBe(4);
    expect(pages).toBe(2);
    expect((await call("repositories", "GET", "/repositories?limit=0", { token: tokens.viewer })).status).toBe(400);
    expect((await call("repositories", "GET", "/repositories?cursor=%%%", { token: tokens.viewer })).body.error.code).toBe("invalid_cursor");
    expect((await call("repositories", "GET", "/repositories", { token: tokens.otherAdmin })).body.items).toEqual([]);

    const one = await call("repository", "GET", "", { token: tokens.viewer, params: { id: created.body.id } });
    expect(one).toMatchObject({ status: 200, body: { id: created.body.id, schedule: { enabled: true } } });
    expect(one.body.schedule.cron).toMatch(/^\d+ \d+ \* \* \*$/);
    expect(one.body.schedule.nextRuns).toHaveLength(3);
    const foreign = await call("repository", "GET", "", { token: tokens.otherAdmin, params: { id: created.body.id } });
    const missing = await call("repository", "GET", "", { token: tokens.otherAdmin, params: { id: "does-not-exist" } });
    expect(foreign).toEqual({ ...missing, headers: foreign.headers });
    expect(foreign.status).toBe(404);
  });

  it("queues, runs, reads, lists and cancels scans; findings filter and paginate", async () => {
    const list = await call("repositories", "GET", "/repositories?limit=100", { token: tokens.viewer });
    const demo = list.body.items.find((r: { name: string }) => r.name === "demo");
    const queued = await call("scans", "POST", "", { token: tokens.member, params: { id: demo.id } });
    expect(queued).toMatchObject({ status: 202, body: { status: "queued", created: true } });
    const again = await call("scans", "POST", "", { token: tokens.member, params: { id: demo.id } });
    expect(again.body).toMatchObject({ id: queued.body.id, created: false });
    expect((await call("scans", "POST", "", { token: tokens.viewer, params: { id: demo.id } })).status).toBe(403);
    expect((await call("scans", "POST", "", { token: tokens.otherAdmin, params: { id: demo.id } })).status).toBe(404);
    expect((await call("scans", "POST", "", { token: tokens.member, params: { id: demo.id }, body: { commitSha: "not a sha" } })).status).toBe(400);

    const before = await call("scan", "GET", "", { token: tokens.viewer, params: { id: queued.body.id } });
    expect(before.body).toMatchObject({ status: "queued", filesDone: 0, findingsCount: 0, error: null });
    expect(await runQueuedScan(queued.body.id)).toEqual({ kind: "done", status: "succeeded" });
    const after = await call("scan", "GET", "", { token: tokens.viewer, params: { id: queued.body.id } });
    expect(after.body).toMatchObject({ status: "succeeded", filesDone: 13, filesTotal: 13, findingsCount: 8, error: null });
    expect(Object.values(after.body.countsBySeverity as Record<string, number>).reduce((x, y) => x + y, 0)).toBe(8);
    expect((await call("scan", "GET", "", { token: tokens.otherAdmin, params: { id: queued.body.id } })).status).toBe(404);

    // Cancel: a queued scan ends at once; an ended one cannot be cancelled.
    const second = await call("scans", "POST", "", { token: tokens.member, params: { id: demo.id }, headers: { "idempotency-key": "ci-run-7" } });
    const retried = await call("scans", "POST", "", { token: tokens.member, params: { id: demo.id }, headers: { "idempotency-key": "ci-run-7" } });
    expect(retried.body.id).toBe(second.body.id);
    expect((await call("cancel", "POST", "", { token: tokens.viewer, params: { id: second.body.id } })).status).toBe(403);
    expect((await call("cancel", "POST", "", { token: tokens.otherAdmin, params: { id: second.body.id } })).status).toBe(404);
    const cancelled = await call("cancel", "POST", "", { token: tokens.member, params: { id: second.body.id } });
    expect(cancelled).toMatchObject({ status: 202, body: { status: "cancelled" } });
    expect(await call("cancel", "POST", "", { token: tokens.member, params: { id: second.body.id } })).toMatchObject({
      status: 409,
      body: { error: { code: "not_cancellable" } },
    });

    const scans = await call("scans", "GET", "?limit=1", { token: tokens.viewer, params: { id: demo.id } });
    expect(scans.body.items).toHaveLength(1);
    expect(Object.keys(scans.body.items[0]).sort()).toEqual(["commitSha", "createdAt", "id", "status", "trigger"]);
    const rest = await call("scans", "GET", `?limit=1&cursor=${scans.body.nextCursor}`, { token: tokens.viewer, params: { id: demo.id } });
    expect(rest.body.items.map((s: { id: string }) => s.id)).not.toContain(scans.body.items[0].id);
    expect(new Set([scans.body.items[0].id, rest.body.items[0].id])).toEqual(new Set([queued.body.id, second.body.id]));
    expect(rest.body.nextCursor).toBeNull();

    const all: { id: string; rule: string; severity: string; path: string; status: string; fingerprint: string }[] = [];
    let cursor: string | null = null;
    do {
      const page = await call("findings", "GET", `/findings?repository=${demo.id}&limit=3${cursor ? `&cursor=${cursor}` : ""}`, { token: tokens.viewer });
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(all).toHaveLength(8);
    expect(new Set(all.map((f) => f.id)).size).toBe(8);
    expect(all.every((f) => f.status === "open" && f.fingerprint && f.path && f.rule)).toBe(true);
    const rule = all[0].rule;
    const byRule = await call("findings", "GET", `/findings?rule=${rule}`, { token: tokens.viewer });
    expect(byRule.body.items.every((f: { rule: string }) => f.rule === rule)).toBe(true);
    const tsOnly = await call("findings", "GET", "/findings?path=web", { token: tokens.viewer });
    expect(tsOnly.body.items.length).toBe(all.filter((f) => f.path.startsWith("web/")).length);
    const errors = await call("findings", "GET", "/findings?severity=error", { token: tokens.viewer });
    expect(errors.body.items.every((f: { severity: string }) => f.severity === "error")).toBe(true);
    expect((await call("findings", "GET", "/findings?status=bogus", { token: tokens.viewer })).status).toBe(400);
    expect((await call("findings", "GET", "/findings", { token: tokens.otherAdmin })).body.items).toEqual([]);
    expect((await call("findings", "GET", `/findings?repository=${demo.id}`, { token: tokens.otherAdmin })).body.items).toEqual([]);
  });

  it("sets schedules: validated cron, described in words, admin only", async () => {
    const list = await call("repositories", "GET", "/repositories?limit=100", { token: tokens.viewer });
    const demo = list.body.items.find((r: { name: string }) => r.name === "demo");
    const set = await call("schedule", "PUT", "", { token: tokens.admin, params: { id: demo.id }, body: { cron: "30 2 * * 1" } });
    expect(set).toMatchObject({ status: 200, body: { cron: "30 2 * * 1", enabled: true } });
    expect(set.body.description).toMatch(/02:30/);
    expect(set.body.description).toMatch(/Monday/);
    expect(set.body.nextRuns.map((d: string) => new Date(d).getUTCDay())).toEqual([1, 1, 1]);
    expect((await call("schedule", "GET", "", { token: tokens.viewer, params: { id: demo.id } })).body.cron).toBe("30 2 * * 1");
    for (const cron of ["61 * * * *", "* * * * *", "nonsense", "1 2 3"]) {
      expect((await call("schedule", "PUT", "", { token: tokens.admin, params: { id: demo.id }, body: { cron } })).body.error.code, cron).toBe("invalid_cron");
    }
    expect((await call("schedule", "PUT", "", { token: tokens.member, params: { id: demo.id }, body: { cron: "0 1 * * *" } })).status).toBe(403);
    expect((await call("schedule", "PUT", "", { token: tokens.otherAdmin, params: { id: demo.id }, body: { cron: "0 1 * * *" } })).status).toBe(404);
    const reset = await call("schedule", "PUT", "", { token: tokens.admin, params: { id: demo.id }, body: { cron: null } });
    expect(reset.body.cron).toMatch(/^\d+ \d+ \* \* \*$/);
    const off = await call("schedule", "PUT", "", { token: tokens.admin, params: { id: demo.id }, body: { cron: null, enabled: false } });
    expect(off.body).toMatchObject({ enabled: false, nextRuns: [] });
  });

  it("stores uploaded CLI results, reconciled like server scans", async () => {
    const list = await call("repositories", "GET", "/repositories?limit=100", { token: tokens.viewer });
    const empty = list.body.items.find((r: { name: string }) => r.name === "empty");
    const finding = (fingerprint: string, line: number) => ({
      rule: "session-not-closed",
      severity: "warning",
      message: "session is never closed",
      path: "app/db.py",
      line,
      column: 5,
      end_line: line,
      end_column: 20,
      fingerprint,
      suppressed: false,
      fix: null,
    });
    const document = (findings: unknown[], extra = {}) => ({ tool: { name: "poolguard", version: "0.1.0" }, root: "/ci", files_scanned: 3, duration_ms: 12, findings, errors: [], ...extra });
    const first = await call("uploads", "POST", "", { token: tokens.member, params: { id: empty.id }, body: document([finding("f-1", 3), finding("f-2", 9)], { commitSha: "abc1234" }) });
    expect(first).toMatchObject({ status: 201, body: { status: "succeeded", findingsCount: 2 } });
    expect((await call("scan", "GET", "", { token: tokens.viewer, params: { id: first.body.id } })).body).toMatchObject({ trigger: "cli", commitSha: "abc1234" });
    const second = await call("uploads", "POST", "", { token: tokens.member, params: { id: empty.id }, body: document([finding("f-2", 11)]) });
    expect(second.status).toBe(201);
    const findings = (await call("findings", "GET", `/findings?repository=${empty.id}`, { token: tokens.viewer })).body.items;
    const byFp = Object.fromEntries(findings.map((f: { fingerprint: string }) => [f.fingerprint, f]));
    expect(byFp["f-1"]).toMatchObject({ status: "fixed", fixedInScanId: second.body.id });
    expect(byFp["f-2"]).toMatchObject({ status: "open", line: 11, firstSeenScanId: first.body.id });
    // A partial upload closes nothing.
    await call("uploads", "POST", "", { token: tokens.member, params: { id: empty.id }, body: document([], { partial: true }) });
    expect((await call("findings", "GET", `/findings?repository=${empty.id}&status=open`, { token: tokens.viewer })).body.items).toHaveLength(1);
    expect((await call("uploads", "POST", "", { token: tokens.viewer, params: { id: empty.id }, body: document([]) })).status).toBe(403);
    expect((await call("uploads", "POST", "", { token: tokens.otherAdmin, params: { id: empty.id }, body: document([]) })).status).toBe(404);
    expect((await call("uploads", "POST", "", { token: tokens.member, params: { id: empty.id }, body: { findings: "nope" } })).body.error.code).toBe("invalid_request");
  });
});
