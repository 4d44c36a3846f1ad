// --changed-since on lines, --fix --diff, and test code (tags and severity).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseUnifiedDiff, touchesChangedLines, unquoteGitPath } from "../../../lib/cli/changed-lines.ts";

const bin = join(import.meta.dirname, "../../../bin/poolguard.mjs");
const scratch = mkdtempSync(join(tmpdir(), "poolguard-options-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const leak = (name: string) => `def ${name}():
    session = SessionLocal()
    return session.query(User).count()
`;
const header = "from app.db import SessionLocal\n\n\n";

function write(root: string, files: Record<string, string>) {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

let n = 0;
function makeRepo(files: Record<string, string> = {}) {
  const root = join(scratch, `repo-${n++}`);
  write(root, {
    "app/__init__.py": "",
    "app/db.py": "from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n",
    ...files,
  });
  return root;
}

function poolguard(args: string[], cwd = scratch) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

type JsonFinding = { path: string; line: number; severity: string; tags?: string[]; rule: string };
const findingsOf = (stdout: string) => (JSON.parse(stdout).findings as JsonFinding[]).map((f) => `${f.path}:${f.line}`);

function commitAll(root: string) {
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=t@t", "-c", "user.name=t", ...args], { cwd: root, stdio: "pipe" });
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "base");
  return git;
}

describe("changed lines", () => {
  it("parses -U0 hunks: additions, changes, deletions and quoted paths", () => {
    const diff = [
      "diff --git a/app/x.py b/app/x.py",
      "--- a/app/x.py",
      "+++ b/app/x.py",
      "@@ -3,0 +4,2 @@ def f():",
      "+++ not a header, an added line starting with two pluses",
      "+second",
      "@@ -10 +12 @@",
      "-old",
      "+new",
      "@@ -20,3 +21,0 @@",
      "-a",
      "-b",
      "-c",
      'diff --git "a/caf\\303\\251 \\"q\\".py" "b/caf\\303\\251 \\"q\\".py"',
      '--- "a/caf\\303\\251 \\"q\\".py"',
      '+++ "b/caf\\303\\251 \\"q\\".py"',
      "@@ -1 +1 @@",
      "-x",
      "+y",
      "diff --git a/gone.py b/gone.py",
      "--- a/gone.py",
      "+++ /dev/null",
      "@@ -1,2 +0,0 @@",
      "-a",
      "-b",
    ].join("\n");
    const changed = parseUnifiedDiff(diff);
    expect([...changed.keys()]).toEqual(["app/x.py", 'café "q".py']);
    expect([...(changed.get("app/x.py") as Set<number>)].sort((a, b) => a - b)).toEqual([4, 5, 12, 21, 22]);
    expect(unquoteGitPath('"b/tab\\there"')).toBe("b/tab\there");
    expect(touchesChangedLines(changed, { path: "app/x.py", line: 1, end_line: 4 })).toBe(true);
    expect(touchesChangedLines(changed, { path: "app/x.py", line: 6, end_line: 11 })).toBe(false);
    expect(touchesChangedLines(changed, { path: "other.py", line: 1, end_line: 1 })).toBe(false);
  });

  it("--changed-since reports findings on changed lines only; --changed-files every finding in a changed file", () => {
    const repo = makeRepo({ "app/users.py": `${header}${leak("list_users")}`, "app/jobs.py": `${header}${leak("run_jobs")}` });
    commitAll(repo);
    // A new function in a file that already had a finding, and a new untracked file.
    write(repo, { "app/users.py": `${header}${leak("list_users")}\n\n${leak("list_admins")}`, "app/new.py": `${header}${leak("fresh")}` });
    const lines = poolguard(["scan", repo, "--changed-since", "HEAD", "--format", "json"]);
    expect(lines.code).toBe(1);
    expect(findingsOf(lines.stdout)).toEqual(["app/new.py:5", "app/users.py:10"]);
    const files = poolguard(["scan", repo, "--changed-since", "HEAD", "--changed-files", "--format", "json"]);
    expect(findingsOf(files.stdout)).toEqual(["app/new.py:5", "app/users.py:5", "app/users.py:10"]);
    // A change elsewhere in a file (a comment) does not report its old finding.
    const onlyComment = makeRepo({ "app/users.py": `${header}${leak("list_users")}` });
    commitAll(onlyComment);
    write(onlyComment, { "app/users.py": `${header}${leak("list_users")}# a comment\n` });
    const quiet = poolguard(["scan", onlyComment, "--changed-since", "HEAD", "--format", "json"]);
    expect(quiet.code).toBe(0);
    expect(findingsOf(quiet.stdout)).toEqual([]);
    expect(poolguard(["scan", onlyComment, "--changed-files"]).code).toBe(2);
  });

  it("counts lines next to a deletion as changed (removing the close() makes the leak)", () => {
    const repo = makeRepo({
      "app/users.py": `${header}def list_users():\n    session = SessionLocal()\n    rows = session.query(User).all()\n    session.close()\n    return rows\n`,
    });
    commitAll(repo);
    write(repo, { "app/users.py": `${header}def list_users():\n    session = SessionLocal()\n    rows = session.query(User).all()\n    return rows\n` });
    const result = poolguard(["scan", repo, "--changed-files", "--changed-since", "HEAD", "--format", "json"]);
    expect(findingsOf(result.stdout)).toEqual(["app/users.py:5"]);
  });
});

describe("--fix --diff", () => {
  it("prints a patch git can apply, writes nothing, and applying it equals --fix", () => {
    const before = `${header}${leak("list_users")}`;
    const repo = makeRepo({ "app/users.py": before });
    const git = commitAll(repo);
    const result = poolguard(["scan", ".", "--fix", "--diff"], repo);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^diff --git a\/app\/users\.py b\/app\/users\.py\n--- a\/app\/users\.py\n\+\+\+ b\/app\/users\.py\n@@ /);
    expect(result.stderr).toContain("Would fix 1 finding in 1 file");
    expect(readFileSync(join(repo, "app/users.py"), "utf8")).toBe(before);
    writeFileSync(join(scratch, "fix.patch"), result.stdout);
    git("apply", join(scratch, "fix.patch"));
    const patched = readFileSync(join(repo, "app/users.py"), "utf8");
    git("checkout", "--", "app/users.py");
    expect(poolguard(["scan", ".", "--fix"], repo).code).toBe(0);
    expect(readFileSync(join(repo, "app/users.py"), "utf8")).toBe(patched);
    expect(patched).toContain("with SessionLocal() as session:");
  });

  it("with --output writes the report there and keeps stdout for the patch; --diff alone is a usage error", () => {
    const repo = makeRepo({ "app/users.py": `${header}${leak("list_users")}` });
    const report = join(scratch, "diff-report.json");
    const result = poolguard(["scan", repo, "--fix", "--diff", "--format", "json", "--output", report]);
    expect(result.stdout.startsWith("diff --git ")).toBe(true);
    expect(JSON.parse(readFileSync(report, "utf8")).fixes.files).toEqual([{ path: "app/users.py", fixed: [{ rule: "session-not-closed", line: 5 }] }]);
    const usage = poolguard(["scan", repo, "--diff"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--diff needs --fix");
  });
});

describe("test code", () => {
  const testFiles = {
    "tests/test_users.py": `${header}${leak("t1")}`,
    "app/users_test.py": `${header}${leak("t2")}`,
    "app/test_jobs.py": `${header}${leak("t3")}`,
    "conftest.py": `${header}${leak("t4")}`,
    "pkg/__tests__/x.py": `${header}${leak("t5")}`,
    "test/helpers.py": `${header}${leak("t6")}`,
    "app/users.py": `${header}${leak("prod")}`,
    "app/contest.py": `${header}${leak("not_a_test")}`,
  };

  it("is tagged \"test\" and reported at info by default, so CI gates on production code", () => {
    const repo = makeRepo(testFiles);
    const result = poolguard(["scan", repo, "--format", "json"]);
    expect(result.code).toBe(1);
    const findings = JSON.parse(result.stdout).findings as JsonFinding[];
    const byPath = Object.fromEntries(findings.map((f) => [f.path, f]));
    for (const path of ["tests/test_users.py", "app/users_test.py", "app/test_jobs.py", "conftest.py", "pkg/__tests__/x.py", "test/helpers.py"]) {
      expect(byPath[path], path).toMatchObject({ severity: "info", tags: ["test"] });
    }
    for (const path of ["app/users.py", "app/contest.py"]) {
      expect(byPath[path].severity, path).toBe("warning");
      expect(byPath[path], path).not.toHaveProperty("tags");
    }
    // Only the two production findings are at or above warning.
    const prodOnly = makeRepo({ "tests/test_users.py": testFiles["tests/test_users.py"] });
    expect(poolguard(["scan", prodOnly]).code).toBe(0);
    expect(poolguard(["scan", prodOnly, "--fail-on", "info"]).code).toBe(1);
  });

  it("carries the tag into SARIF result properties", () => {
    const repo = makeRepo({ "tests/test_users.py": testFiles["tests/test_users.py"], "app/users.py": testFiles["app/users.py"] });
    const sarif = JSON.parse(poolguard(["scan", repo, "--format", "sarif"]).stdout);
    const results = sarif.runs[0].results as { level: string; properties?: { tags: string[] }; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
    const of = (uri: string) => results.find((r) => r.locations[0].physicalLocation.artifactLocation.uri === uri);
    expect(of("tests/test_users.py")).toMatchObject({ level: "note", properties: { tags: ["test"] } });
    expect(of("app/users.py")?.level).toBe("warning");
    expect(of("app/users.py")).not.toHaveProperty("properties");
  });

  it("is configurable: tests.paths replaces the defaults, tests.severity sets the level or turns findings off", () => {
    const repo = makeRepo({ ...testFiles, "qa/checks.py": `${header}${leak("qa")}`, "poolguard.yml": 'tests:\n  paths: ["qa/**"]\n  severity: error\n' });
    const custom = JSON.parse(poolguard(["scan", repo, "--format", "json"]).stdout).findings as JsonFinding[];
    expect(custom.filter((f) => f.tags).map((f) => `${f.path}:${f.severity}`)).toEqual(["qa/checks.py:error"]);
    expect(custom.find((f) => f.path === "tests/test_users.py")?.severity).toBe("warning");
    write(repo, { "poolguard.yml": "tests:\n  severity: off\n" });
    const off = JSON.parse(poolguard(["scan", repo, "--format", "json"]).stdout).findings as JsonFinding[];
    expect(off.map((f) => f.path).sort()).toEqual(["app/contest.py", "app/users.py", "qa/checks.py"]);
    // With test findings off, --fix leaves test files alone too.
    poolguard(["scan", repo, "--fix"]);
    expect(readFileSync(join(repo, "tests/test_users.py"), "utf8")).toBe(testFiles["tests/test_users.py"]);
  });

  it("rejects a bad tests: key naming the file, the key and the line", () => {
    const repo = makeRepo({ "app/users.py": testFiles["app/users.py"] });
    write(repo, { "poolguard.yml": "rules: {}\ntests:\n  severity: loud\n" });
    const bad = poolguard(["scan", repo]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("poolguard.yml:3: tests.severity: expected off, info, warning or error");
    write(repo, { "poolguard.yml": "tests:\n  path: [x]\n" });
    expect(poolguard(["scan", repo]).stderr).toContain("poolguard.yml:2: tests.path: unknown key (expected paths or severity)");
    write(repo, { "poolguard.yml": "tests:\n  paths: tests\n" });
    expect(poolguard(["scan", repo]).stderr).toContain("poolguard.yml:2: tests.paths: expected a list of strings");
  });
});
