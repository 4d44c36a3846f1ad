import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeGeneratedRepo } from "../../../bench/pipeline-repo.ts";
import { useFreshDatabase } from "../db/fresh-database.ts";
import { copyDemoRepository, root, tempDir, waitUntil } from "./helpers.ts";

// The scan service in this process: cancelling a running scan, the per-scan time
// limit, uploads from the real CLI over HTTP, and the demo seed on repeated starts.

const run = promisify(execFile);
let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
const repos = tempDir("service-repos");
const saved = { REDIS_URL: process.env.REDIS_URL, POOLGUARD_LOCAL_ROOTS: process.env.POOLGUARD_LOCAL_ROOTS, LIMIT: process.env.POOLGUARD_SCAN_TIME_LIMIT_SECONDS };
let organizationId = "";

beforeAll(async () => {
  delete process.env.REDIS_URL;
  process.env.POOLGUARD_LOCAL_ROOTS = repos.dir;
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
  const user = await db.createUser({ email: "svc@example.test", name: "svc" });
  organizationId = (await db.createOrganization({ slug: "svc", name: "Svc", ownerUserId: user.id })).id;
  writeGeneratedRepo(join(repos.dir, "big"), { files: 200 });
  copyDemoRepository(join(repos.dir, "demo"));
});
afterAll(async () => {
  const { closeAnalyzerProcesses } = await import("../../../lib/scan/analyzer-process.ts");
  closeAnalyzerProcesses();
  await db.disconnectDatabase();
  await database.drop();
  for (const [key, value] of Object.entries({ REDIS_URL: saved.REDIS_URL, POOLGUARD_LOCAL_ROOTS: saved.POOLGUARD_LOCAL_ROOTS, POOLGUARD_SCAN_TIME_LIMIT_SECONDS: saved.LIMIT })) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  repos.remove();
});

function context() {
  return {
    owner: `svc-${Math.random()}`,
    leaseMs: 10_000,
    heartbeatMs: 200,
    signal: new AbortController().signal,
    dispatcher: { dispatchScan: async () => {} },
    log: { info: () => {}, error: () => {} },
  };
}

describe("scan service", () => {
  it("cancels a running scan: the analyzer stops and nothing is stored", async () => {
    const repository = await db.createRepository({ organizationId, provider: "local", name: "big", localPath: join(repos.dir, "big") });
    const { scan } = await db.enqueueScan({ repositoryId: repository.id, trigger: "manual" });
    const { handle } = await import("../../../lib/jobs/scan-repository.ts");
    const running = handle({ scanId: scan.id }, context());
    await waitUntil("the scan to report progress", async () => ((await db.getScan(scan.id))?.filesDone ?? 0) > 0, 120_000, 50);
    await db.requestScanCancel(scan.id);
    expect(await running).toEqual({ kind: "done", status: "cancelled" });
    expect(await db.getScan(scan.id)).toMatchObject({ status: "cancelled", runningKey: null, findingsCount: 0 });
    expect(await db.countFindings({ repositoryId: repository.id })).toBe(0);
  }, 180_000);

  it("uses the configuration saved in the dashboard instead of the repository's own", async () => {
    const repository = await db.createRepository({ organizationId, provider: "local", name: "demo-config", localPath: join(repos.dir, "demo") });
    const { handle } = await import("../../../lib/jobs/scan-repository.ts");
    const first = (await db.enqueueScan({ repositoryId: repository.id, trigger: "manual" })).scan;
    expect(await handle({ scanId: first.id }, context())).toEqual({ kind: "done", status: "succeeded" });
    const before = await db.listFindingsPage({ repositoryId: repository.id, status: "open", take: 200 });
    expect(before.items.some((f) => f.rule === "session-not-closed")).toBe(true);
    await db.updateRepositorySettings(repository.id, { configYaml: "rules:\n  session-not-closed: off\n" });
    const second = (await db.enqueueScan({ repositoryId: repository.id, trigger: "manual", idempotencyKey: `override-${repository.id}` })).scan;
    expect(await handle({ scanId: second.id }, context())).toEqual({ kind: "done", status: "succeeded" });
    const after = await db.listFindingsPage({ repositoryId: repository.id, status: "open", take: 200 });
    expect(after.items.filter((f) => f.rule === "session-not-closed")).toEqual([]);
    expect(after.items.length).toBeGreaterThan(0);
  });

  it("fails a scan that exceeds its time limit", async () => {
    process.env.POOLGUARD_SCAN_TIME_LIMIT_SECONDS = "1";
    try {
      const repository = await db.createRepository({ organizationId, provider: "local", name: "big-limited", localPath: join(repos.dir, "big") });
      const { scan } = await db.enqueueScan({ repositoryId: repository.id, trigger: "manual" });
      const { handle } = await import("../../../lib/jobs/scan-repository.ts");
      expect(await handle({ scanId: scan.id }, context())).toEqual({ kind: "done", status: "failed" });
      const failed = await db.getScan(scan.id);
      expect(failed?.status).toBe("failed");
      expect(failed?.error).toMatch(/time limit \(1 s\)/);
      expect(await db.countFindings({ repositoryId: repository.id })).toBe(0);
    } finally {
      delete process.env.POOLGUARD_SCAN_TIME_LIMIT_SECONDS;
    }
  }, 120_000);

  it("fails a scan of a path outside the allowed roots without retrying", async () => {
    const repository = await db.createRepository({ organizationId, provider: "local", name: "elsewhere", localPath: "/etc" });
    const { scan } = await db.enqueueScan({ repositoryId: repository.id, trigger: "manual" });
    const { handle } = await import("../../../lib/jobs/scan-repository.ts");
    expect(await handle({ scanId: scan.id }, context())).toEqual({ kind: "done", status: "failed" });
    expect((await db.getScan(scan.id))?.error).toMatch(/outside the folders/);
  });

  it("retries a scan whose repository cannot be fetched, with backoff, then fails it", async () => {
    process.env.POOLGUARD_GIT_ALLOW_LOOPBACK_HTTP = "1";
    try {
      const repository = await db.createRepository({ organizationId, provider: "git", name: "unreachable", cloneUrl: "http://127.0.0.1:9/none.git" });
      const { scan } = await db.enqueueScan({ repositoryId: repository.id, trigger: "manual" });
      const { handle } = await import("../../../lib/jobs/scan-repository.ts");
      const { backoffMs, retryPolicy } = await import("../../../lib/jobs/policy.ts");
      const dispatched: number[] = [];
      for (let attempt = 1; attempt < retryPolicy.attempts; attempt++) {
        const ctx = { ...context(), dispatcher: { dispatchScan: async (_id: string, _attempts: number, delayMs = 0) => void dispatched.push(delayMs) } };
        const before = Date.now();
        expect(await handle({ scanId: scan.id }, ctx)).toEqual({ kind: "done", status: "queued" });
        const queued = await db.getScan(scan.id);
        expect(queued).toMatchObject({ status: "queued", attempts: attempt, runningKey: null });
        expect(queued?.error).toMatch(/could not fetch http:\/\/127\.0\.0\.1:9\/none\.git/);
        expect(queued?.runAfter?.getTime()).toBeGreaterThanOrEqual(before + backoffMs(attempt));
        // Not handed to a runner before its backoff has passed.
        expect((await db.listQueuedScans(100)).map((s) => s.id)).not.toContain(scan.id);
        expect((await db.listQueuedScans(100, new Date(Date.now() + backoffMs(attempt) + 1000))).map((s) => s.id)).toContain(scan.id);
      }
      expect(dispatched).toEqual([backoffMs(1), backoffMs(2)]);
      expect(await handle({ scanId: scan.id }, context())).toEqual({ kind: "done", status: "failed" });
      const failed = await db.getScan(scan.id);
      expect(failed).toMatchObject({ status: "failed", attempts: retryPolicy.attempts });
      expect(failed?.error).toMatch(/tried 3 times/);
    } finally {
      delete process.env.POOLGUARD_GIT_ALLOW_LOOPBACK_HTTP;
    }
  }, 120_000);

  it("stores results uploaded by `poolguard scan --upload`", async () => {
    const repository = await db.createRepository({ organizationId, provider: "local", name: "ci", localPath: join(repos.dir, "demo") });
    const { issueApiToken } = await import("../../../lib/cli/admin.ts");
    const { token } = await issueApiToken({ organizationId, role: "member", name: "ci" });
    const uploads = await import("../../../app/api/v1/repositories/[id]/uploads/route.ts");
    const server: Server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const id = /\/repositories\/([^/]+)\/uploads$/.exec(req.url ?? "")?.[1] ?? "";
      const response = await uploads.POST(
        new Request(`http://127.0.0.1${req.url}`, { method: "POST", headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) }),
        { params: Promise.resolve({ id }) },
      );
      res.writeHead(response.status, { "content-type": "application/json" });
      res.end(await response.text());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1/repositories/${repository.id}/uploads`;
    try {
      const cli = [join(root, "bin", "poolguard.mjs"), "scan", join(repos.dir, "demo"), "--format", "json", "--fail-on", "never", "--upload", url];
      const { stdout, stderr } = await run(process.execPath, cli, { env: { ...process.env, POOLGUARD_TOKEN: token }, maxBuffer: 64 * 1024 * 1024 });
      expect(stderr).toMatch(/uploaded 8 findings/);
      const printed = JSON.parse(stdout).findings.map((f: { fingerprint: string }) => f.fingerprint).sort();
      const stored = (await db.listFindings({ repositoryId: repository.id })).map((f) => f.fingerprint).sort();
      expect(stored).toEqual(printed);
      const [latest] = await db.listScans(repository.id, { take: 1 });
      expect(latest).toMatchObject({ trigger: "cli", status: "succeeded", findingsCount: 8 });
      await expect(run(process.execPath, cli, { env: { ...process.env, POOLGUARD_TOKEN: "pgt_wrong" } })).rejects.toMatchObject({ stderr: expect.stringMatching(/401/) });
      const withoutToken = { ...process.env };
      delete withoutToken.POOLGUARD_TOKEN;
      await expect(run(process.execPath, cli, { env: withoutToken })).rejects.toMatchObject({ stderr: expect.stringMatching(/POOLGUARD_TOKEN/) });
    } finally {
      server.close();
    }
  }, 120_000);

  it("seeds the demo workspace once: restarts add no demo scan", async () => {
    const seed = () => run(process.execPath, ["--import", "tsx", join(root, "scripts", "seed-demo.ts")], { cwd: root, env: { ...process.env, POOLGUARD_ADMIN_EMAIL: "svc@example.test" } });
    await seed();
    await seed();
    await seed();
    const demo = await db.findOrganizationBySlug("demo");
    const repository = demo ? await db.findRepositoryByName(demo.id, "demo/sample-app") : null;
    expect(repository).not.toBeNull();
    const scans = await db.listScans(repository?.id as string, { take: 10 });
    expect(scans.map((s) => [s.trigger, s.status])).toEqual([["demo", "succeeded"]]);
  }, 180_000);
});
