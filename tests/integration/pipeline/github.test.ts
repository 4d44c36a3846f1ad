import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scan as analyze } from "../../../lib/analyzer/index.ts";
import { type FakeGitHub, startFakeGitHub } from "../../support/fake-github/index.ts";
import { leakyRepository } from "../../unit/github/setup.ts";
import { useFreshDatabase } from "../db/fresh-database.ts";
import { tempDir } from "./helpers.ts";

// A GitHub repository added through the API and scanned from the tarball of its head
// commit, against the fake GitHub HTTP server (the one test double allowed).

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
let fake: FakeGitHub;
const reference = tempDir("github-reference");
const saved = { GITHUB_TOKEN: process.env.GITHUB_TOKEN, GITHUB_API_URL: process.env.GITHUB_API_URL, REDIS_URL: process.env.REDIS_URL };

beforeAll(async () => {
  delete process.env.REDIS_URL;
  fake = await startFakeGitHub();
  fake.createRepository({ owner: "acme", name: "shop", files: leakyRepository });
  process.env.GITHUB_TOKEN = fake.personalAccessToken("poolguard-bot");
  process.env.GITHUB_API_URL = fake.apiUrl;
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
});
afterAll(async () => {
  await db.disconnectDatabase();
  await database.drop();
  await fake.stop();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  reference.remove();
});

describe("GitHub repositories", () => {
  it("are added through the API and scanned from a commit snapshot", async () => {
    const { issueApiToken } = await import("../../../lib/cli/admin.ts");
    const user = await db.createUser({ email: "gh@example.test", name: "gh" });
    const organization = await db.createOrganization({ slug: "gh", name: "GH", ownerUserId: user.id });
    const { token } = await issueApiToken({ organizationId: organization.id, role: "admin", name: "gh" });
    const repositories = await import("../../../app/api/v1/repositories/route.ts");
    const scans = await import("../../../app/api/v1/repositories/[id]/scans/route.ts");
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const post = (body: unknown) => new Request("http://127.0.0.1/api/v1/repositories", { method: "POST", headers, body: JSON.stringify(body) });

    const created = await repositories.POST(post({ provider: "github", fullName: "acme/shop" }));
    const repository = await created.json();
    expect(created.status).toBe(201);
    expect(repository).toMatchObject({ provider: "github", fullName: "acme/shop", defaultBranch: "main" });
    const missing = await repositories.POST(post({ provider: "github", fullName: "acme/none" }));
    expect(missing.status).toBe(400);

    const queued = await (await scans.POST(new Request("http://127.0.0.1/x", { method: "POST", headers }), { params: Promise.resolve({ id: repository.id }) })).json();
    const scanRepository = await import("../../../lib/jobs/scan-repository.ts");
    const ctx = {
      owner: "gh-test",
      leaseMs: 30_000,
      heartbeatMs: 1000,
      signal: new AbortController().signal,
      dispatcher: { dispatchScan: async () => {} },
      log: { info: () => {}, error: () => {} },
    };
    expect(await scanRepository.handle({ scanId: queued.id }, ctx)).toEqual({ kind: "done", status: "succeeded" });

    // The same files scanned directly give the same findings.
    const { mkdirSync, writeFileSync } = await import("node:fs");
    const { dirname, join } = await import("node:path");
    for (const [path, text] of Object.entries(leakyRepository)) {
      mkdirSync(dirname(join(reference.dir, path)), { recursive: true });
      writeFileSync(join(reference.dir, path), text);
    }
    const expected = (await analyze({ root: reference.dir })).findings.map((f) => f.fingerprint).sort();
    expect(expected.length).toBeGreaterThan(0);
    const stored = await db.getScan(queued.id);
    const head = await (await import("../../../lib/scan/github-source.ts")).githubSource("acme/shop").headCommit("main");
    expect(stored).toMatchObject({ status: "succeeded", commitSha: head, findingsCount: expected.length });
    expect((await db.listFindings({ repositoryId: repository.id })).map((f) => f.fingerprint).sort()).toEqual(expected);
  });
});
