// A git URL repository scanned end to end (a real `git clone` from a smart-HTTP git server
// on 127.0.0.1): the clone is deleted when the scan ends, so the finding page can only
// show what the scan stored. Each finding keeps the code around it, exactly as in the
// file, and the fix diff computed from that context is the one the whole file gives.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bareRepositoryFrom, startGitHttpServer } from "../../support/git-http-server.ts";
import { useFreshDatabase } from "../db/fresh-database.ts";
import { copyDemoRepository, tempDir } from "../pipeline/helpers.ts";

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
let server: Awaited<ReturnType<typeof startGitHttpServer>>;
const work = tempDir("finding-context");
const source = join(work.dir, "source");
const saved = { REDIS_URL: process.env.REDIS_URL, LOOPBACK: process.env.POOLGUARD_GIT_ALLOW_LOOPBACK_HTTP };

beforeAll(async () => {
  delete process.env.REDIS_URL;
  process.env.POOLGUARD_GIT_ALLOW_LOOPBACK_HTTP = "1";
  copyDemoRepository(source);
  bareRepositoryFrom(source, work.dir, "demo");
  server = await startGitHttpServer(work.dir);
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
});
afterAll(async () => {
  const { closeAnalyzerProcesses } = await import("../../../lib/scan/analyzer-process.ts");
  closeAnalyzerProcesses();
  await db?.disconnectDatabase();
  await database?.drop();
  await server?.close();
  work.remove();
  for (const [key, value] of Object.entries({ REDIS_URL: saved.REDIS_URL, POOLGUARD_GIT_ALLOW_LOOPBACK_HTTP: saved.LOOPBACK })) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe("findings of a git URL repository", () => {
  it("keep the code around them, and the finding page shows it with the fix diff", async () => {
    const user = await db.createUser({ email: "ctx@example.test", name: "ctx" });
    const organization = await db.createOrganization({ slug: "ctx", name: "Ctx", ownerUserId: user.id });
    const repository = await db.createRepository({ organizationId: organization.id, provider: "git", name: "demo", cloneUrl: `${server.url}/demo.git` });
    const { scan } = await db.enqueueScan({ repositoryId: repository.id, trigger: "manual" });
    const { handle } = await import("../../../lib/jobs/scan-repository.ts");
    const ctx = { owner: "ctx", leaseMs: 30_000, heartbeatMs: 1000, signal: new AbortController().signal, dispatcher: { dispatchScan: async () => {} }, log: { info: () => {}, error: () => {} } };
    expect(await handle({ scanId: scan.id }, ctx)).toEqual({ kind: "done", status: "succeeded" });
    expect((await db.getScan(scan.id))?.commitSha).toMatch(/^[0-9a-f]{40}$/);

    const { contextLines } = await import("../../../lib/scan/source-context.ts");
    const findings = await db.listFindings({ repositoryId: repository.id, take: 1000 });
    expect(findings.length).toBeGreaterThan(3);
    for (const f of findings) {
      const lines = readFileSync(join(source, f.path), "utf8").split("\n");
      const where = `${f.rule} at ${f.path}:${f.line}`;
      expect(f.contextStartLine, where).toBe(Math.max(1, f.line - contextLines));
      const stored = (f.context ?? "").split("\n");
      // The stored lines are the file's lines, from a few before to a few after.
      expect(stored, where).toEqual(lines.slice((f.contextStartLine as number) - 1, (f.contextStartLine as number) - 1 + stored.length));
      expect((f.contextStartLine as number) + stored.length - 1, where).toBe(Math.min(lines.length, f.endLine + contextLines));
    }

    // What the finding page shows for it: the stored context, not just the flagged lines.
    const { contextFixDiff, findingSource, fixDiff } = await import("../../../lib/ui/finding-source.ts");
    const fixable = findings.filter((f) => f.fix?.edits.every((e) => e.path === f.path && e.end.line <= f.endLine + 3));
    expect(fixable.length).toBeGreaterThan(0);
    for (const f of fixable) {
      const view = await db.getFindingInOrganization(f.id, organization.id);
      const shown = await findingSource({ provider: "git", localPath: null, path: f.path, line: f.line, endLine: f.endLine, snippet: view?.snippet ?? "", context: view?.context, contextStartLine: view?.contextStartLine });
      expect(shown).toMatchObject({ from: "context", firstLine: f.contextStartLine, text: f.context });
      expect(shown.text.split("\n").length).toBeGreaterThan(f.endLine - f.line + 1);
      const fileText = readFileSync(join(source, f.path), "utf8");
      const fromContext = contextFixDiff(f.path, { text: shown.text, startLine: shown.firstLine }, f.fix);
      expect(fromContext, `${f.rule} at ${f.path}:${f.line}`).not.toBeNull();
      expect(fromContext).toBe(fixDiff(f.path, fileText, f.fix));
    }
  }, 120_000);
});
