import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "../../../bin/poolguard.mjs");
const scratch = mkdtempSync(join(tmpdir(), "poolguard-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const leak = `from app.db import SessionLocal


def list_users():
    session = SessionLocal()
    return session.query(User).count()
`;

function write(root: string, files: Record<string, string | Buffer>) {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

function poolguard(args: string[], cwd = scratch) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let repo: string;
let n = 0;
beforeEach(() => {
  repo = join(scratch, `repo-${n++}`);
  write(repo, {
    "app/__init__.py": "",
    "app/db.py": "from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n",
    "app/users.py": leak,
    // A file that names a session factory is analysed, so its syntax error is reported; one that
    // names nothing Poolguard looks at is not parsed at all (like Semgrep's required words).
    "app/broken.py": "from app.db import SessionLocal\n\n\ndef broken(:\n    session = SessionLocal()\n",
    "app/notes.py": "def unrelated(:\n    pass\n",
    "app/blob.py": Buffer.from([0x70, 0x00, 0x01, 0x02]),
    "node_modules/lib/index.py": leak,
    "generated/models_pb2.py": leak,
  });
});

describe("poolguard scan", () => {
  it("prints exactly one JSON document with the contract's shape and exits 1 on findings", () => {
    const { code, stdout } = poolguard(["scan", repo, "--format", "json"]);
    expect(code).toBe(1);
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc).slice(0, 6)).toEqual(["tool", "root", "files_scanned", "duration_ms", "findings", "errors"]);
    expect(doc.tool).toEqual({ name: "poolguard", version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(doc.findings).toHaveLength(1);
    expect(doc.findings[0]).toEqual({
      rule: "session-not-closed",
      severity: "warning",
      message: expect.stringContaining("never closed"),
      path: "app/users.py",
      line: 5,
      column: 5,
      end_line: 5,
      end_column: 29,
      fingerprint: expect.stringMatching(/^[0-9a-f]{16,}$/),
      suppressed: false,
      fix: { safety: "safe", description: expect.any(String), edits: expect.any(Array) },
    });
    // An analysed file that does not parse is reported and the scan goes on.
    expect(doc.errors).toEqual([{ path: "app/broken.py", message: expect.stringMatching(/^syntax error at line 4\b/) }]);
    expect(doc.skipped).toEqual(expect.arrayContaining([{ path: "app/blob.py", reason: "binary" }, { path: "generated/models_pb2.py", reason: "generated" }]));
    expect(doc.skipped.map((s: { path: string }) => s.path)).not.toContain("node_modules/lib/index.py");
  });

  it("exits 0 below --fail-on and with --fail-on never", () => {
    expect(poolguard(["scan", repo, "--fail-on", "error"]).code).toBe(0);
    expect(poolguard(["scan", repo, "--fail-on", "never"]).code).toBe(0);
    expect(poolguard(["scan", repo, "--fail-on", "info"]).code).toBe(1);
  });

  it("exits 2 with a clear message on usage and config errors", () => {
    const usage = poolguard(["scan", repo, "--format", "xml"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--format must be text, json or sarif");
    write(repo, { "poolguard.yml": "rules:\n  session-not-closed: off\n  nope: error\n" });
    const config = poolguard(["scan", repo]);
    expect(config.code).toBe(2);
    expect(config.stderr).toContain("poolguard.yml:3: rules.nope: unknown rule id");
    expect(poolguard(["scan", join(repo, "missing")]).code).toBe(2);
    expect(poolguard(["frobnicate"]).code).toBe(2);
  });

  it("honours rules: off, suppressions and .gitignore", () => {
    write(repo, { "poolguard.yml": "rules:\n  session-not-closed: off\n" });
    expect(poolguard(["scan", repo]).code).toBe(0);
    rmSync(join(repo, "poolguard.yml"));
    write(repo, { "app/users.py": leak.replace("SessionLocal()", "SessionLocal()  # poolguard: ignore[session-not-closed]") });
    const suppressed = JSON.parse(poolguard(["scan", repo, "--format", "json"]).stdout);
    expect(suppressed.findings.map((f: { suppressed: boolean }) => f.suppressed)).toEqual([true]);
    write(repo, { ".gitignore": "app/users.py\n", "app/users.py": leak });
    const ignored = JSON.parse(poolguard(["scan", repo, "--format", "json"]).stdout);
    expect(ignored.findings).toEqual([]);
    expect(ignored.skipped).toContainEqual({ path: "app/users.py", reason: "gitignored" });
  });

  it("--fix rewrites the file, prints what changed, and a second scan is clean", () => {
    const { code, stdout } = poolguard(["scan", repo, "--fix"]);
    expect(stdout).toContain("Fixed 1 finding in 1 file");
    expect(stdout).toContain("app/users.py: session-not-closed ×1");
    expect(code).toBe(0);
    expect(readFileSync(join(repo, "app/users.py"), "utf8")).toContain("    with SessionLocal() as session:\n        return session.query(User).count()");
    execFileSync("python3", ["-m", "py_compile", join(repo, "app/users.py")]);
    expect(poolguard(["scan", repo]).code).toBe(0);
  });

  it("--fix with --format json keeps stdout a single JSON document", () => {
    const { stdout, stderr } = poolguard(["scan", repo, "--fix", "--format", "json"]);
    expect(JSON.parse(stdout).findings).toEqual([]);
    expect(stderr).toContain("Fixed 1 finding");
  });

  it("writes a baseline, then reports only new findings", () => {
    const baseline = join(repo, "baseline.json");
    expect(poolguard(["scan", repo, "--baseline", baseline]).code).toBe(0);
    expect(JSON.parse(readFileSync(baseline, "utf8")).fingerprints).toHaveLength(1);
    expect(poolguard(["scan", repo, "--baseline", baseline]).code).toBe(0);
    write(repo, { "app/more.py": leak.replace("list_users", "list_admins") });
    const { code, stdout } = poolguard(["scan", repo, "--baseline", baseline, "--format", "json"]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).findings.map((f: { path: string }) => f.path)).toEqual(["app/more.py"]);
  });

  it("--only and positional paths limit what is reported, not what is indexed", () => {
    write(repo, { "other/jobs.py": leak });
    const only = JSON.parse(poolguard(["scan", repo, "--only", "other", "--format", "json"], repo).stdout);
    expect(only.findings.map((f: { path: string }) => f.path)).toEqual(["other/jobs.py"]);
    const positional = JSON.parse(poolguard(["scan", ".", "app/users.py", "--format", "json"], repo).stdout);
    expect(positional.findings.map((f: { path: string }) => f.path)).toEqual(["app/users.py"]);
  });

  it("--changed-since reports only files changed since a git ref", () => {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
    git("init", "-q");
    git("-c", "user.email=t@t", "-c", "user.name=t", "add", ".");
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base");
    expect(JSON.parse(poolguard(["scan", repo, "--changed-since", "HEAD", "--format", "json"]).stdout).findings).toEqual([]);
    write(repo, { "app/new.py": leak });
    const changed = JSON.parse(poolguard(["scan", repo, "--changed-since", "HEAD", "--format", "json"]).stdout);
    expect(changed.findings.map((f: { path: string }) => f.path)).toEqual(["app/new.py"]);
    expect(poolguard(["scan", repo, "--changed-since", "no-such-ref"]).code).toBe(2);
  });

  it("text output groups by file and is plain without a TTY", () => {
    const { stdout } = poolguard(["scan", repo]);
    expect(stdout).toContain("app/users.py\n  5:5  warning  Session `session`");
    expect(stdout).not.toContain("\u001b[");
    expect(stdout).toMatch(/1 finding \(0 error, 1 warning, 0 info\) in \d+ files/);
  });
});

describe("poolguard sarif", () => {
  it("is SARIF 2.1.0 with what GitHub code scanning requires", () => {
    write(repo, { "app/users.py": leak.replace("    session = SessionLocal()", "    # poolguard: ignore[session-not-closed]\n    session = SessionLocal()") });
    write(repo, { "app/jobs.py": leak });
    const { stdout } = poolguard(["scan", repo, "--format", "sarif"]);
    const sarif = JSON.parse(stdout);
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.$schema).toMatch(/sarif/);
    const run = sarif.runs[0];
    const driver = run.tool.driver;
    expect(driver).toMatchObject({ name: "poolguard", version: expect.any(String), informationUri: expect.stringMatching(/^https:\/\//) });
    expect(driver.rules.length).toBeGreaterThanOrEqual(14);
    for (const rule of driver.rules) {
      expect(rule.id).toMatch(/^[a-z-]+$/);
      expect(rule.shortDescription.text.length).toBeGreaterThan(0);
      expect(rule.fullDescription.text.length).toBeGreaterThan(0);
      expect(rule.fullDescription.text.length).toBeLessThanOrEqual(1024);
      expect(rule.help.text.length).toBeGreaterThan(0);
      expect(rule.help.markdown.length).toBeGreaterThan(0);
      expect(["note", "warning", "error"]).toContain(rule.defaultConfiguration.level);
    }
    expect(run.results).toHaveLength(2);
    const suppressed = run.results.find((r: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) => r.locations[0].physicalLocation.artifactLocation.uri === "app/users.py");
    expect(suppressed.suppressions).toEqual([{ kind: "inSource" }]);
    const result = run.results.find((r: { suppressions?: unknown }) => !r.suppressions);
    expect(driver.rules[result.ruleIndex].id).toBe(result.ruleId);
    expect(result.locations[0].physicalLocation.artifactLocation.uri).toBe("app/jobs.py");
    expect(result.locations[0].physicalLocation.region).toEqual({ startLine: 5, startColumn: 5, endLine: 5, endColumn: 29 });
    expect(result.partialFingerprints.primaryLocationLineHash).toMatch(/^[0-9a-f]+$/);
    expect(result.fixes[0].artifactChanges[0].replacements.length).toBeGreaterThan(0);
    // No empty strings anywhere: GitHub rejects them.
    const strings: string[] = [];
    JSON.stringify(sarif, (_k, v) => {
      if (typeof v === "string") strings.push(v);
      return v;
    });
    expect(strings.filter((s) => s === "")).toEqual([]);
  });
});

describe("poolguard rules", () => {
  it("lists every rule with its docs", () => {
    const { code, stdout } = poolguard(["rules", "--format", "json"]);
    expect(code).toBe(0);
    const rules = JSON.parse(stdout) as { id: string; docs: { sections: Record<string, string> } | null }[];
    expect(rules.map((r) => r.id)).toEqual([
      "connection-not-closed",
      "engine-per-call",
      "forbidden-import",
      "manual-aenter",
      "mongoose-session-not-ended",
      "pool-client-not-released",
      "prisma-client-per-call",
      "query-runner-not-released",
      "session-dependency-not-closed",
      "session-not-closed",
      "session-shared-across-tasks",
      "session-used-after-close",
      "shared-module-session",
      "transaction-not-finished",
    ]);
    for (const rule of rules) expect(rule.docs?.sections["Why is this bad?"]?.length, rule.id).toBeGreaterThan(20);
    expect(poolguard(["--version"]).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
