// `poolguard pr` end to end: the real CLI process against the fake GitHub on loopback.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scan } from "../../../lib/analyzer/index.ts";
import { type Harness, harness } from "./setup.ts";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "../../../bin/poolguard.mjs");

let h: Harness;
let scratch: string;
beforeEach(async () => {
  h = await harness({ pathPrefix: "/api/v3" });
  scratch = mkdtempSync(join(tmpdir(), "pg-cli-pr-"));
});
afterEach(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await h.cleanup();
});

async function poolguardPr(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, "pr", ...args], {
      env: { ...process.env, GITHUB_TOKEN: h.token, POOLGUARD_GITHUB_WRITE_PAUSE_MS: "0", GITHUB_API_URL: "", ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("poolguard pr", () => {
  it("opens one pull request whose files compile and no longer hold its findings; a second run writes nothing", async () => {
    const first = await poolguardPr(["--repo", "acme/shop", "--api-url", h.fake.apiUrl, "--group", "repository"]);
    expect(first.stderr).not.toContain(h.token);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^opened #1 .*poolguard\/fix-all "Fix 3 database session and connection problems"/m);
    const pulls = h.fake.pulls(h.fullName);
    expect(pulls).toHaveLength(1);
    const branch = pulls[0].head;

    // Check out what the pull request proposes and judge it.
    const checkout = join(scratch, "branch");
    for (const path of ["app/db.py", "app/users.py", "jobs/cleanup.py", "README.md"]) {
      const text = h.fake.readFile(h.fullName, branch, path);
      expect(text).not.toBeNull();
      mkdirSync(dirname(join(checkout, path)), { recursive: true });
      writeFileSync(join(checkout, path), text as string);
    }
    await run("python3", ["-m", "py_compile", "app/db.py", "app/users.py", "jobs/cleanup.py"], { cwd: checkout });
    const after = await scan({ root: checkout, fix: "none" });
    expect(after.errors).toEqual([]);
    expect(after.findings).toEqual([]);
    for (const named of [["app/users.py", "session-not-closed"], ["app/users.py", "connection-not-closed"], ["jobs/cleanup.py", "session-not-closed"]]) {
      expect(pulls[0].body).toContain(`\`${named[0]}\``);
      expect(pulls[0].body).toContain(`\`${named[1]}\``);
    }

    h.fake.clearLog();
    const second = await poolguardPr(["--repo", "acme/shop", "--api-url", h.fake.apiUrl, "--group", "repository"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^up to date #1/m);
    expect(h.fake.writeCount()).toBe(0);
    expect(second.stderr).toContain("0 write calls");
  });

  it("--dry-run prints branches, titles and diffs and writes nothing; GITHUB_API_URL is honoured", async () => {
    const dry = await poolguardPr(["--repo", "acme/shop", "--dry-run"], { GITHUB_API_URL: h.fake.apiUrl });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("--- branch poolguard/fix-session-not-closed");
    expect(dry.stdout).toContain("--- title  Fix session-not-closed: 2 findings");
    expect(dry.stdout).toContain("--- a/jobs/cleanup.py");
    expect(dry.stdout).toContain("+++ b/jobs/cleanup.py");
    expect(dry.stdout).toMatch(/^\+\s+with SessionLocal\(\) as session:$/m);
    expect(dry.stdout).toMatch(/^-\s+session = SessionLocal\(\)$/m);
    expect(h.fake.writeCount()).toBe(0);
    expect(h.fake.pulls(h.fullName)).toHaveLength(0);
  });

  it("usage errors exit 2 and name the problem", async () => {
    expect((await poolguardPr([])).code).toBe(2);
    const noToken = await poolguardPr(["--repo", "acme/shop"], { GITHUB_TOKEN: "" });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("GITHUB_TOKEN");
    const unreachable = await poolguardPr(["--repo", "acme/nope", "--api-url", h.fake.apiUrl]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("HTTP 404");
    const noBranch = await poolguardPr(["--repo", "acme/shop", "--api-url", h.fake.apiUrl, "--base", "release"]);
    expect(noBranch.code).toBe(1);
    expect(noBranch.stderr).toContain("HTTP 404");
    expect(h.fake.writeCount()).toBe(0);
  });
});
