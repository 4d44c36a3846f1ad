// The CLI as a process: where relative paths point (also through `npm run`), closed
// pipes, dying analysis processes, and the package manifest it is installed from.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { informationUri } from "../../../lib/analyzer/version.ts";
import { userDirectory } from "../../../lib/cli/user-directory.ts";

const projectRoot = join(import.meta.dirname, "../../..");
const bin = join(projectRoot, "bin/poolguard.mjs");
const scratch = mkdtempSync(join(tmpdir(), "poolguard-process-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const leak = (name: string) => `from app.db import SessionLocal


def ${name}():
    session = SessionLocal()
    return session.query(User).count()
`;

function write(root: string, files: Record<string, string>) {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

function makeRepo(name: string, extra: Record<string, string> = {}) {
  const root = join(scratch, name);
  write(root, {
    "app/__init__.py": "",
    "app/db.py": "from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n",
    "app/users.py": leak("list_users"),
    ...extra,
  });
  return root;
}

const stackTrace = /^\s+at .+(:\d+:\d+\)?|\(node:)/m;

describe("relative paths", () => {
  it("resolve against the directory the CLI runs in, for ROOT, --only, --output and --config", () => {
    const repo = makeRepo("paths", { "other/jobs.py": leak("jobs"), "cfg/pg.yml": "rules:\n  engine-per-call: off\n" });
    mkdirSync(join(scratch, "out"), { recursive: true });
    const again = spawnSync(process.execPath, [bin, "scan", "paths", "--only", "paths/other", "--config", "paths/cfg/pg.yml", "--format", "json", "--output", "out/report.json"], {
      cwd: scratch,
      encoding: "utf8",
    });
    expect(again.stderr).toContain("wrote JSON to out/report.json");
    expect(again.status).toBe(1);
    const report = JSON.parse(readFileSync(join(scratch, "out/report.json"), "utf8"));
    expect(report.root).toBe(repo);
    expect(report.findings.map((f: { path: string }) => f.path)).toEqual(["other/jobs.py"]);
  });

  it("through `npm run poolguard` mean the folder the user ran npm in, and stdout holds only the document with --silent", () => {
    const cwd = join(projectRoot, "tests/fixtures");
    const result = spawnSync("npm", ["run", "--silent", "poolguard", "--", "scan", "python", "--format", "json", "--jobs", "1"], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const doc = JSON.parse(result.stdout);
    expect(doc.root).toBe(join(cwd, "python"));
    expect(doc.findings.length).toBeGreaterThan(0);
  });

  it("a team's own npm script keeps npm's convention (its package root), only Poolguard's own scripts move", () => {
    const npmRun = { INIT_CWD: "/somewhere/deeper", npm_lifecycle_event: "poolguard", npm_package_json: join(projectRoot, "package.json") };
    expect(userDirectory({ ...npmRun, INIT_CWD: scratch }, projectRoot)).toBe(scratch);
    // Another project's script that calls poolguard: npm runs it in that project's root.
    expect(userDirectory({ ...npmRun, INIT_CWD: scratch, npm_package_json: join(scratch, "package.json") }, scratch)).toBe(scratch);
    expect(userDirectory({ ...npmRun, INIT_CWD: join(scratch, "sub"), npm_package_json: "/team/app/package.json" }, "/team/app")).toBe("/team/app");
    // Outside npm nothing moves.
    expect(userDirectory({}, "/x")).toBe("/x");
  });
});

function runUntilFirstOutput(args: string[], cwd = scratch): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    // The reader goes away after the first chunk, as `| head -1` does.
    child.stdout.once("data", () => child.stdout.destroy());
    child.on("close", (code, signal) => resolvePromise({ code, signal, stderr }));
  });
}

describe("a closed pipe", () => {
  it("ends `poolguard rules` quietly with its usual status", async () => {
    const { code, signal, stderr } = await runUntilFirstOutput(["rules"]);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(stderr).toBe("");
  });

  it("ends a scan quietly with its usual status (1: findings)", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`app/mod_${i}.py`] = leak(`handler_${i}`);
    makeRepo("pipe", files);
    const { code, stderr } = await runUntilFirstOutput(["scan", "pipe", "--format", "json"]);
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(1);
  });
});

function childPids(pid: number): number[] {
  const out = spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).stdout;
  return out
    .split("\n")
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
}

describe("analysis processes that die", () => {
  it("are reported in one line, never as a stack trace, and never hang the scan", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 160; i++) files[`app/mod_${i}.py`] = `${leak(`handler_${i}`)}\n${"x = 1\n".repeat(400)}`;
    makeRepo("dying", files);
    const child: ChildProcess = spawn(process.execPath, [bin, "scan", "dying", "--format", "json", "--jobs", "2"], { cwd: scratch, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const killed = new Set<number>();
    const killer = setInterval(() => {
      for (const pid of childPids(child.pid as number)) {
        if (killed.has(pid)) continue;
        killed.add(pid);
        process.kill(pid, "SIGKILL");
      }
    }, 15);
    const code = await new Promise<number | null>((r) => child.on("close", r));
    clearInterval(killer);
    expect(killed.size).toBeGreaterThan(0);
    expect(stderr).not.toMatch(stackTrace);
    if (code === 2) {
      expect(stderr).toMatch(/^poolguard: error: /m);
    } else {
      // The scan survived: whatever a killed process held is listed as not analysed.
      expect([0, 1]).toContain(code);
      const doc = JSON.parse(stdout);
      for (const error of doc.errors) expect(error.message).toMatch(/analysis crashed|timed out/);
    }
  }, 120_000);
});

describe("the package manifest", () => {
  const manifest = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8"));

  it("installs only what the CLI loads at run time; the web app's packages stay in devDependencies", () => {
    expect(manifest.private).toBeUndefined();
    // scripts/build-cli.mjs leaves exactly these out of the bundle.
    for (const runtime of ["tree-sitter", "tree-sitter-python", "ts-morph"]) expect(manifest.dependencies[runtime], runtime).toBeDefined();
    for (const webOnly of ["next", "react", "react-dom", "prisma", "@prisma/client", "better-sqlite3", "pg", "tsx", "bullmq", "@octokit/rest"]) {
      expect(manifest.dependencies[webOnly], `${webOnly} belongs in devDependencies: everything in "dependencies" is installed with the CLI`).toBeUndefined();
    }
    // Prisma generation runs for the checkout only; installed packages have no install script of ours.
    expect(manifest.scripts.postinstall).toBeUndefined();
    expect(manifest.scripts.prepare).toContain("scripts/build-cli.mjs");
    expect(manifest.files).toEqual(["bin/poolguard.mjs", "dist/"]);
    expect(manifest.bin).toEqual({ poolguard: "bin/poolguard.mjs" });
  });

  it("names the repository the SARIF help links and the docs point at", () => {
    expect(manifest.repository.url).toBe(`git+${informationUri}.git`);
    const sarif = JSON.parse(spawnSync(process.execPath, [bin, "scan", makeRepo("sarif-links"), "--format", "sarif"], { encoding: "utf8" }).stdout);
    const rules = sarif.runs[0].tool.driver.rules as { id: string; helpUri: string }[];
    const docs = new Set(readdirSync(join(projectRoot, "docs/rules")));
    for (const rule of rules) {
      expect(rule.helpUri).toBe(`https://github.com/poolguard/poolguard/blob/main/docs/rules/${rule.id}.md`);
      expect(docs.has(`${rule.id}.md`), rule.id).toBe(true);
    }
  });
});
