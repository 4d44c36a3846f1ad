import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeGeneratedRepo } from "../../../bench/pipeline-repo.ts";
import { scan as analyze } from "../../../lib/analyzer/index.ts";
import { useFreshDatabase } from "../db/fresh-database.ts";
import { startWorker, tempDir, waitUntil, type WorkerProcess } from "./helpers.ts";

// A worker process is SIGKILLed in the middle of a scan; another starts; the scan
// completes once, with exactly the findings the analyzer reports on those files.
// Database transport (no REDIS_URL), on whichever database the suite runs on.

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
const repo = tempDir("crash-repo");
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
});
afterAll(async () => {
  for (const w of workers) await w.kill("SIGKILL");
  await db.disconnectDatabase();
  await database.drop();
  repo.remove();
});

function descendants(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let children = "";
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8");
    } catch {
      continue;
    }
    for (const child of children.split(/\s+/).filter(Boolean).map(Number)) out.push(child, ...descendants(child));
  }
  return out;
}

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
};

describe("a worker killed mid-scan", () => {
  it("leaves nothing half-written and the scan completes after a restart with no duplicated or lost findings", async () => {
    const generated = writeGeneratedRepo(repo.dir, { files: 160 });
    const reference = await analyze({ root: repo.dir });
    const expected = [...new Set(reference.findings.map((f) => f.fingerprint))].sort();
    expect(expected.length).toBe(generated.leaks);

    const user = await db.createUser({ email: "crash@example.test", name: "c" });
    const organization = await db.createOrganization({ slug: "crash", name: "Crash", ownerUserId: user.id });
    const repository = await db.createRepository({ organizationId: organization.id, provider: "local", name: "generated", localPath: repo.dir });
    const { scan } = await db.enqueueScan({ repositoryId: repository.id, trigger: "manual" });

    const env = { REDIS_URL: undefined, POOLGUARD_LEASE_SECONDS: "2", POOLGUARD_LOCAL_ROOTS: repo.dir, DATABASE_URL: process.env.DATABASE_URL };
    const first = startWorker(env);
    workers.push(first);
    await waitUntil(
      "the scan to be running with progress",
      async () => {
        const s = await db.getScan(scan.id);
        return s?.status === "running" && s.filesDone > 0 && s.filesDone < s.filesTotal;
      },
      90_000,
      50,
    );
    const tree = descendants(first.child.pid as number);
    expect(tree.length).toBeGreaterThan(0);
    await first.kill("SIGKILL");
    // The analyzer processes notice their parent is gone and exit.
    await waitUntil("the killed worker's analyzer processes to exit", async () => tree.every((pid) => !alive(pid)), 15_000);

    const interrupted = await db.getScan(scan.id);
    expect(interrupted).toMatchObject({ status: "running", attempts: 1 });
    expect(await db.countFindings({ repositoryId: repository.id })).toBe(0);
    expect(first.events.some((e) => e.msg === "scan completed")).toBe(false);

    const second = startWorker(env);
    workers.push(second);
    const done = await waitUntil(
      "the scan to finish after the restart",
      async () => {
        const s = await db.getScan(scan.id);
        return s && s.status !== "running" && s.status !== "queued" ? s : null;
      },
      120_000,
      200,
    );
    expect(done).toMatchObject({ status: "succeeded", attempts: 2, findingsCount: expected.length, error: null });
    const stored = await db.listFindings({ repositoryId: repository.id, take: 10_000 });
    expect(stored.map((f) => f.fingerprint).sort()).toEqual(expected);
    expect(stored.every((f) => f.status === "open" && f.firstSeenScanId === scan.id && f.lastSeenScanId === scan.id)).toBe(true);
    // The worker logs after it commits, so the event can trail the row by a moment.
    await waitUntil("the restarted worker to log the completed scan", async () => second.events.some((e) => e.msg === "scan completed" && e.scanId === scan.id), 15_000);
    expect(second.events.filter((e) => e.msg === "scan completed" && e.scanId === scan.id)).toHaveLength(1);
    expect(second.events.some((e) => e.msg === "scan re-queued after its runner stopped" && e.scanId === scan.id)).toBe(true);

    await second.kill("SIGTERM");
    expect(second.child.exitCode).toBe(0);
  }, 300_000);
});
