// The authorization matrix of the REST API: a caller of one organization can neither read
// nor change another organization's repositories, findings, scans, schedules or
// uploads (always 404, exactly like an id that does not exist, so nothing leaks), and a
// viewer cannot change anything (403). Organizations and people are set up with the
// self-hosters' admin commands (create-org, create-user) as a self-hoster would.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useFreshDatabase } from "./db/fresh-database.ts";

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../lib/db/index.ts");

beforeAll(async () => {
  delete process.env.REDIS_URL;
  database = await useFreshDatabase();
  db = await import("../../lib/db/index.ts");
});
afterAll(async () => {
  await db?.disconnectDatabase();
  await database?.drop();
});

type Io = { out: string; err: string };
async function admin(args: string[]): Promise<Io & { code: number }> {
  const { runAdminCommand } = await import("../../lib/cli/admin.ts");
  const io: Io = { out: "", err: "" };
  const code = await runAdminCommand(args, {
    stdout: (s) => {
      io.out += s;
    },
    stderr: (s) => {
      io.err += s;
    },
  });
  return { ...io, code };
}

const routes = {
  repositories: () => import("../../app/api/v1/repositories/route.ts"),
  repository: () => import("../../app/api/v1/repositories/[id]/route.ts"),
  scans: () => import("../../app/api/v1/repositories/[id]/scans/route.ts"),
  schedule: () => import("../../app/api/v1/repositories/[id]/schedule/route.ts"),
  uploads: () => import("../../app/api/v1/repositories/[id]/uploads/route.ts"),
  scan: () => import("../../app/api/v1/scans/[id]/route.ts"),
  cancel: () => import("../../app/api/v1/scans/[id]/cancel/route.ts"),
  findings: () => import("../../app/api/v1/findings/route.ts"),
};

function call(token: string, method: string, body?: unknown, path = "/x") {
  return new Request(`http://127.0.0.1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
const params = (id: string) => ({ params: Promise.resolve({ id }) });

describe("authorization across organizations and roles", () => {
  it("answers 404 for another organization's objects, as for missing ones, and 403 to viewers who change things", async () => {
    // The first organization and its owner, as the first start creates them.
    const owner = await db.createUser({ email: "owner@acme.test", name: "Owner" });
    const acme = await db.createOrganization({ slug: "acme", name: "Acme", ownerUserId: owner.id });
    // The admin commands: a second organization, an admin there, a viewer here.
    const org = await admin(["create-org", "Rival Co", "--slug", "rival"]);
    expect(org).toMatchObject({ code: 0, out: "rival\n" });
    expect((await admin(["create-org", "Rival Co", "--slug", "rival"])).code).toBe(2);
    const rivalAdmin = await admin(["create-user", "bob@rival.test", "--org", "rival", "--role", "admin", "--base-url", "http://127.0.0.1:3000"]);
    expect(rivalAdmin.code).toBe(0);
    expect(rivalAdmin.out).toMatch(/^http:\/\/127\.0\.0\.1:3000\/sign-in\/link\?token=\S+\n$/);
    expect((await admin(["create-user", "val@acme.test", "--org", "acme", "--role", "viewer"])).code).toBe(0);
    expect((await admin(["create-user", "x@acme.test", "--role", "emperor"])).code).toBe(2);
    expect((await admin(["frobnicate"])).err).toContain("create-org");
    const rival = await db.findOrganizationBySlug("rival");
    const bob = await db.findUserByEmail("bob@rival.test");
    const val = await db.findUserByEmail("val@acme.test");
    expect(await db.listOrganizationsForUser(bob?.id as string)).toEqual([expect.objectContaining({ slug: "rival", role: "admin" })]);
    expect(await db.listOrganizationsForUser(val?.id as string)).toEqual([expect.objectContaining({ slug: "acme", role: "viewer" })]);

    // Acme's repository with a scan and findings.
    const repository = await db.createRepository({ organizationId: acme.id, provider: "github", name: "acme/shop" });
    const scan = await db.createScan({ repositoryId: repository.id, trigger: "manual" });
    const finding = { rule: "session-not-closed", severity: "error", message: "leak", path: "app/users.py", line: 5, column: 5, end_line: 5, end_column: 20, fingerprint: "f".repeat(64), snippet: "", fix: null, suppressed: false };
    await db.completeScan(scan.id, { tool: { name: "poolguard", version: "0" }, root: "", files_scanned: 1, duration_ms: 1, findings: [finding], errors: [] } as never);
    const queued = await db.createScan({ repositoryId: repository.id, trigger: "manual" });

    const { issueApiToken } = await import("../../lib/cli/admin.ts");
    const outsider = (await issueApiToken({ organizationId: rival?.id as string, role: "admin", name: "rival" })).token;
    const viewer = (await issueApiToken({ organizationId: acme.id, role: "viewer", name: "viewer" })).token;
    const member = (await issueApiToken({ organizationId: acme.id, role: "member", name: "member" })).token;

    const r = {
      repository: await routes.repository(),
      scans: await routes.scans(),
      schedule: await routes.schedule(),
      uploads: await routes.uploads(),
      scan: await routes.scan(),
      cancel: await routes.cancel(),
      findings: await routes.findings(),
      repositories: await routes.repositories(),
    };
    const upload = { tool: { name: "poolguard", version: "0" }, files_scanned: 0, duration_ms: 0, findings: [], errors: [] };
    /** Every way to reach one of Acme's objects by id. */
    const reach = (token: string, ids: { repository: string; scan: string }) => [
      ["GET repository", () => r.repository.GET(call(token, "GET"), params(ids.repository))],
      ["GET scans", () => r.scans.GET(call(token, "GET"), params(ids.repository))],
      ["POST scans", () => r.scans.POST(call(token, "POST"), params(ids.repository))],
      ["GET schedule", () => r.schedule.GET(call(token, "GET"), params(ids.repository))],
      ["PUT schedule", () => r.schedule.PUT(call(token, "PUT", { enabled: false }), params(ids.repository))],
      ["POST uploads", () => r.uploads.POST(call(token, "POST", upload), params(ids.repository))],
      ["GET scan", () => r.scan.GET(call(token, "GET"), params(ids.scan))],
      ["POST cancel", () => r.cancel.POST(call(token, "POST"), params(ids.scan))],
    ] as const;

    // The outsider gets exactly what an unknown id gets: 404 with the same body.
    const missing = { repository: "c0000000000000000000000000", scan: "c0000000000000000000000001" };
    for (const [[name, attempt], [, baseline]] of reach(outsider, { repository: repository.id, scan: queued.id }).map((a, i) => [a, reach(outsider, missing)[i]] as const)) {
      const response = await attempt();
      const expected = await baseline();
      expect(response.status, name).toBe(404);
      const body = (await response.json()) as { error?: { message?: string } };
      const baselineBody = (await expected.json()) as { error?: { message?: string } };
      expect(body, name).toEqual(baselineBody);
      expect(JSON.stringify(body), name).not.toContain("acme");
    }
    // Lists never show another organization's objects, whatever the filter.
    const listed = await (await r.repositories.GET(call(outsider, "GET", undefined, "/api/v1/repositories"))).json();
    expect(listed.items).toEqual([]);
    const found = await (await r.findings.GET(call(outsider, "GET", undefined, `/api/v1/findings?repository=${repository.id}`))).json();
    expect(JSON.stringify(found)).not.toContain(repository.id);
    expect(JSON.stringify(found)).not.toContain("app/users.py");
    // Nothing changed: the schedule is as it was, the queued scan still queued.
    expect((await db.getScan(queued.id))?.status).toBe("queued");

    // A viewer of Acme reads, and is refused every change (403, not 404: it can see them).
    expect((await r.repository.GET(call(viewer, "GET"), params(repository.id))).status).toBe(200);
    const ownFindings = await (await r.findings.GET(call(viewer, "GET", undefined, `/api/v1/findings?repository=${repository.id}`))).json();
    expect(JSON.stringify(ownFindings)).toContain("app/users.py");
    for (const [name, attempt] of reach(viewer, { repository: repository.id, scan: queued.id })) {
      if (name.startsWith("GET")) continue;
      expect((await attempt()).status, name).toBe(403);
    }
    expect((await r.repositories.POST(call(viewer, "POST", { provider: "github", fullName: "acme/other" }, "/api/v1/repositories"))).status).toBe(403);
    // A member may scan and cancel but not configure.
    expect((await r.schedule.PUT(call(member, "PUT", { enabled: false }), params(repository.id))).status).toBe(403);
    expect((await r.cancel.POST(call(member, "POST"), params(queued.id))).status).toBe(202);
  });
});
