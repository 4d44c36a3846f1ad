// GET and PATCH /api/v1/findings/{id} through the real route handlers on a real database:
// the finding with its code context and history, triage through the dashboard's code
// path (status, audit event naming the token, history), validation, and the
// authorization matrix: another organization's finding answers exactly like a missing
// one (404, same body), a viewer cannot triage (403), no token is 401.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useFreshDatabase } from "../db/fresh-database.ts";

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
let route: { GET: Handler; PATCH: Handler };
const tokens: Record<string, string> = {};
const ids = { open: "", other: "", fixed: "", rivalOwn: "", acme: "", rival: "" };
const missing = "c0000000000000000000000000";

async function call(method: "GET" | "PATCH", id: string, options: { token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const request = new Request(`http://127.0.0.1:3000/api/v1/findings/${id}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  });
  const response = await route[method](request, { params: Promise.resolve({ id }) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const finding = (n: number, rule: string, path: string, line: number) => ({
  rule,
  severity: "error",
  message: `leak ${n}`,
  path,
  line,
  column: 5,
  end_line: line,
  end_column: 20,
  fingerprint: String(n).repeat(40).slice(0, 40),
  fix: null,
  suppressed: false,
});

beforeAll(async () => {
  delete process.env.REDIS_URL;
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
  route = (await import("../../../app/api/v1/findings/[id]/route.ts")) as unknown as typeof route;
  const { issueApiToken } = await import("../../../lib/cli/admin.ts");
  const owner = await db.createUser({ email: "owner@acme.test", name: "Owner" });
  const acme = await db.createOrganization({ slug: "acme", name: "Acme", ownerUserId: owner.id });
  const rival = await db.createOrganization({ slug: "rival", name: "Rival", ownerUserId: owner.id });
  ids.acme = acme.id;
  ids.rival = rival.id;
  for (const role of ["admin", "member", "viewer"] as const) tokens[role] = (await issueApiToken({ organizationId: acme.id, role, name: `ci-${role}` })).token;
  tokens.rivalAdmin = (await issueApiToken({ organizationId: rival.id, role: "admin", name: "rival-admin" })).token;
  tokens.rivalViewer = (await issueApiToken({ organizationId: rival.id, role: "viewer", name: "rival-viewer" })).token;

  const store = async (organizationId: string, name: string, findings: ReturnType<typeof finding>[]) => {
    const repository = await db.createRepository({ organizationId, provider: "git", name, cloneUrl: `https://git.example.test/${name}.git` });
    const scan = await db.createScan({ repositoryId: repository.id, trigger: "manual" });
    const contexts = new Map(findings.map((f) => [f.fingerprint, { startLine: f.line - 2, text: `def handler():\n    # before\n    session = factory()  # ${f.message}\n    return 1\n` }]));
    await db.completeScan(scan.id, { tool: { name: "poolguard", version: "0" }, root: "", files_scanned: 2, duration_ms: 1, findings, errors: [] } as never, { contexts });
    return repository;
  };
  const repository = await store(acme.id, "acme/shop", [finding(1, "session-not-closed", "app/users.py", 12), finding(2, "connection-not-closed", "app/db.py", 30)]);
  await store(rival.id, "rival/tool", [finding(3, "session-not-closed", "tool/main.py", 7)]);
  const rows = await db.listFindings({ repositoryId: repository.id });
  ids.open = rows.find((f) => f.rule === "session-not-closed")?.id as string;
  ids.other = rows.find((f) => f.rule === "connection-not-closed")?.id as string;
  // A later full scan without the connection finding closes it: fixed.
  const later = await db.createScan({ repositoryId: repository.id, trigger: "manual" });
  await db.completeScan(later.id, { tool: { name: "poolguard", version: "0" }, root: "", files_scanned: 2, duration_ms: 1, findings: [finding(1, "session-not-closed", "app/users.py", 12)], errors: [] } as never);
  ids.fixed = ids.other;
  ids.rivalOwn = (await db.listFindings({ organizationId: rival.id }))[0].id;
});
afterAll(async () => {
  await db?.disconnectDatabase();
  await database?.drop();
});

describe("GET /api/v1/findings/{id}", () => {
  it("answers the finding with its repository, the code around it, history and pull requests", async () => {
    const { status, body } = await call("GET", ids.open, { token: tokens.viewer });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: ids.open,
      rule: "session-not-closed",
      severity: "error",
      path: "app/users.py",
      line: 12,
      status: "open",
      repository: { name: "acme/shop" },
      history: [],
      pullRequests: [],
    });
    // The context stored by the scan, kept by a later scan that sent none.
    expect(body.context).toEqual({ startLine: 10, text: expect.stringContaining("session = factory()  # leak 1") });
  });

  it("answers 401 without a valid token", async () => {
    expect(await call("GET", ids.open)).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
    expect((await call("GET", ids.open, { token: "pgt_not-a-token" })).status).toBe(401);
  });
});

describe("PATCH /api/v1/findings/{id}", () => {
  it("validates the body: a reason to ignore, known reasons and fields, JSON", async () => {
    const noReason = await call("PATCH", ids.open, { token: tokens.member, body: { status: "ignored" } });
    expect(noReason).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    expect(noReason.body.error.message).toMatch(/reason/);
    expect((await call("PATCH", ids.open, { token: tokens.member, body: { status: "ignored", reason: "because" } })).body.error.code).toBe("invalid_request");
    expect((await call("PATCH", ids.open, { token: tokens.member, body: { status: "fixed" } })).body.error.code).toBe("invalid_request");
    expect((await call("PATCH", ids.open, { token: tokens.member, body: { status: "open", reason: "wont-fix" } })).body.error.code).toBe("invalid_request");
    expect((await call("PATCH", ids.open, { token: tokens.member, body: { status: "ignored", reason: "wont-fix", severity: "info" } })).body.error.code).toBe("invalid_request");
    expect((await call("PATCH", ids.open, { token: tokens.member, body: { status: "ignored", reason: "wont-fix", comment: "x".repeat(2001) } })).status).toBe(400);
    expect(await call("PATCH", ids.open, { token: tokens.member, body: "{not json" })).toMatchObject({ status: 400, body: { error: { code: "invalid_json" } } });
    // Nothing was changed by the refused requests.
    expect((await db.getFinding(ids.open))?.status).toBe("open");
  });

  it("ignores with a reason and a comment, and reopens, recording who did it", async () => {
    const ignored = await call("PATCH", ids.open, { token: tokens.member, body: { status: "ignored", reason: "test-code", comment: "fixture for the migration tests" } });
    expect(ignored.status).toBe(200);
    expect(ignored.body).toMatchObject({ id: ids.open, status: "ignored", ignoredReason: "test-code" });
    expect(ignored.body.history).toEqual([
      { action: "finding.ignored", at: expect.any(String), actor: 'API token "ci-member"', reason: "test-code", comment: "fixture for the migration tests" },
    ]);
    // The same audit trail the dashboard writes and the finding page reads.
    const events = await db.listAuditEvents(ids.acme);
    expect(events.find((e) => e.targetId === ids.open)).toMatchObject({ action: "finding.ignored", targetType: "finding", actorUserId: null, data: { reason: "test-code", apiToken: { name: "ci-member" } } });
    const view = await db.getFindingInOrganization(ids.open, ids.acme);
    expect(view?.history.map((e) => [e.action, e.actor])).toEqual([["finding.ignored", 'API token "ci-member"']]);
    // Ignored findings leave the open list.
    expect((await db.searchFindings({ organizationId: ids.acme, status: "open" })).items.map((f) => f.id)).not.toContain(ids.open);

    // Asking again changes nothing: no second event, the first reason kept.
    const again = await call("PATCH", ids.open, { token: tokens.admin, body: { status: "ignored", reason: "wont-fix" } });
    expect(again).toMatchObject({ status: 200, body: { status: "ignored", ignoredReason: "test-code" } });
    expect(again.body.history).toHaveLength(1);

    const reopened = await call("PATCH", ids.open, { token: tokens.admin, body: { status: "open", comment: "the tests moved" } });
    expect(reopened).toMatchObject({ status: 200, body: { status: "open", ignoredReason: null } });
    expect(reopened.body.history.map((e: { action: string; actor: string; comment: string | null }) => [e.action, e.actor, e.comment])).toEqual([
      ["finding.ignored", 'API token "ci-member"', "fixture for the migration tests"],
      ["finding.reopened", 'API token "ci-admin"', "the tests moved"],
    ]);
  });

  it("refuses to reopen a fixed finding (409) but lets it be ignored", async () => {
    expect((await db.getFinding(ids.fixed))?.status).toBe("fixed");
    expect(await call("PATCH", ids.fixed, { token: tokens.member, body: { status: "open" } })).toMatchObject({ status: 409, body: { error: { code: "conflict" } } });
    expect((await db.getFinding(ids.fixed))?.status).toBe("fixed");
  });
});

describe("authorization matrix of /api/v1/findings/{id}", () => {
  const ignore = { status: "ignored", reason: "false-positive" };

  it("answers another organization's finding exactly like a missing one, and changes nothing", async () => {
    for (const [name, token] of [
      ["rival admin", tokens.rivalAdmin],
      ["rival viewer", tokens.rivalViewer],
    ] as const) {
      const get = await call("GET", ids.open, { token });
      const getMissing = await call("GET", missing, { token });
      expect(get.status, name).toBe(404);
      expect(get.body, name).toEqual(getMissing.body);
      expect(get.body, name).toEqual({ error: { code: "not_found", message: "finding not found" } });
      expect(JSON.stringify(get.body)).not.toContain("acme");
    }
    const patch = await call("PATCH", ids.open, { token: tokens.rivalAdmin, body: ignore });
    const patchMissing = await call("PATCH", missing, { token: tokens.rivalAdmin, body: ignore });
    expect(patch.status).toBe(404);
    expect(patch.body).toEqual(patchMissing.body);
    // A viewer of the other organization is refused on its role, for any id alike.
    const viewerOther = await call("PATCH", ids.open, { token: tokens.rivalViewer, body: ignore });
    const viewerMissing = await call("PATCH", missing, { token: tokens.rivalViewer, body: ignore });
    expect(viewerOther.status).toBe(403);
    expect(viewerOther.body).toEqual(viewerMissing.body);
    expect((await db.getFinding(ids.open))?.status).toBe("open");
    expect((await db.listAuditEvents(ids.rival)).filter((e) => e.targetType === "finding")).toEqual([]);
  });

  it("lets a viewer read but not triage (403); members and admins triage; each organization its own", async () => {
    expect((await call("GET", ids.open, { token: tokens.viewer })).status).toBe(200);
    const viewer = await call("PATCH", ids.open, { token: tokens.viewer, body: ignore });
    expect(viewer).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect((await db.getFinding(ids.open))?.status).toBe("open");
    // A viewer cannot reopen either.
    expect((await call("PATCH", ids.open, { token: tokens.viewer, body: { status: "open" } })).status).toBe(403);
    // The rival's admin triages the rival's own finding; Acme's tokens cannot see it.
    expect((await call("PATCH", ids.rivalOwn, { token: tokens.rivalAdmin, body: ignore })).body.status).toBe("ignored");
    expect((await call("GET", ids.rivalOwn, { token: tokens.admin })).status).toBe(404);
    expect((await call("PATCH", ids.rivalOwn, { token: tokens.member, body: { status: "open" } })).status).toBe(404);
    expect((await db.getFinding(ids.rivalOwn))?.status).toBe("ignored");
  });
});

describe("OpenAPI document", () => {
  it("describes GET and PATCH /findings/{id} with the triage body", async () => {
    const { GET } = await import("../../../app/api/v1/openapi.json/route.ts");
    const document = await GET().json();
    const path = document.paths["/findings/{id}"];
    expect(Object.keys(path).sort()).toEqual(["get", "patch"]);
    const schema = path.patch.requestBody.content["application/json"].schema;
    expect(schema.properties.status.enum).toEqual(["ignored", "open"]);
    expect(schema.properties.reason.enum).toEqual(["false-positive", "wont-fix", "test-code"]);
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(path.patch.responses).sort()).toEqual(["200", "400", "401", "403", "404", "409", "429"]);
    expect(document.components.schemas.FindingDetail).toBeTruthy();
  });
});
