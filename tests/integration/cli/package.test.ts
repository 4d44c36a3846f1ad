// The packed CLI, installed the way users install it (npm registry for its
// dependencies), and the GitHub Action's scripts run against that install. Slow: one
// `npm pack` and a few installs.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const projectRoot = join(import.meta.dirname, "../../..");
// Each install may compile the two tree-sitter parsers (where their prebuilt binaries do
// not load), which takes minutes on a busy machine.
const installTimeout = 900_000;
const scratch = mkdtempSync(join(tmpdir(), "poolguard-package-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const npmEnv = { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", NO_COLOR: "1" };
let tarball: string;
let installed: string;

function npm(args: string[], cwd: string) {
  return execFileSync("npm", args, { cwd, env: npmEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function sampleRepo(name: string) {
  const repo = join(scratch, name);
  cpSync(join(projectRoot, "tests/fixtures/python"), join(repo, "src"), { recursive: true });
  mkdirSync(join(repo, "tests"), { recursive: true });
  writeFileSync(
    join(repo, "tests/test_db.py"),
    "from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n\n\ndef test_users():\n    session = SessionLocal()\n    assert session.query(User).all()\n",
  );
  return repo;
}

beforeAll(() => {
  const packDir = join(scratch, "pack");
  mkdirSync(packDir);
  const output = JSON.parse(npm(["pack", "--json", "--pack-destination", packDir], projectRoot));
  tarball = join(packDir, output[0].filename);
  const files = (output[0].files as { path: string }[]).map((f) => f.path);
  expect(files).toContain("dist/cli.mjs");
  expect(files).toContain("dist/worker-bootstrap.mjs");
  expect(files.filter((f) => f.startsWith("lib/") || f.startsWith("app/") || f.startsWith("prisma/"))).toEqual([]);

  installed = join(scratch, "local");
  mkdirSync(installed);
  const started = Date.now();
  npm(["install", "--prefix", installed, tarball, "--no-audit", "--no-fund"], scratch);
  // Recorded for the release notes; speed targets live in bench/, not in assertions.
  console.log(`installed the packed CLI in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, installTimeout);

describe("the packed package", () => {
  it("installs without the web app's dependencies", () => {
    const modules = readdirSync(join(installed, "node_modules"));
    expect(modules).toEqual(expect.arrayContaining(["poolguard", "tree-sitter", "tree-sitter-python", "ts-morph"]));
    for (const webOnly of ["next", "react", "prisma", "@prisma", "better-sqlite3", "pg", "tsx", "bullmq", "@octokit"]) expect(modules, webOnly).not.toContain(webOnly);
    expect(existsSync(join(installed, "node_modules/poolguard/lib"))).toBe(false);
  });

  it("scans with --format sarif, test code tagged, from another working directory", () => {
    const repo = sampleRepo("sample");
    const poolguard = join(installed, "node_modules/.bin/poolguard");
    const result = spawnSync(poolguard, ["scan", "sample", "--format", "sarif", "--jobs", "2"], { cwd: scratch, encoding: "utf8" });
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.status).toBe(1);
    const sarif = JSON.parse(result.stdout);
    expect(sarif.version).toBe("2.1.0");
    const results = sarif.runs[0].results as { ruleId: string; properties?: { tags: string[] }; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
    expect(results.length).toBeGreaterThan(5);
    const uris = results.map((r) => r.locations[0].physicalLocation.artifactLocation.uri);
    expect(uris.every((u) => u.startsWith("src/") || u.startsWith("tests/"))).toBe(true);
    expect(results.find((r) => r.locations[0].physicalLocation.artifactLocation.uri === "tests/test_db.py")?.properties?.tags).toEqual(["test"]);
    // The same findings as the checkout's CLI, which runs the TypeScript sources.
    const fromSources = spawnSync(process.execPath, [join(projectRoot, "bin/poolguard.mjs"), "scan", repo, "--format", "sarif"], { encoding: "utf8" });
    expect(JSON.parse(fromSources.stdout).runs[0].results).toEqual(results);
    // `poolguard rules | head -1`
    const rules = spawnSync("sh", ["-c", `"${poolguard}" rules | head -1; exit \${PIPESTATUS:-0}`], { encoding: "utf8" });
    expect(rules.stderr).toBe("");
    expect(rules.stdout.split("\n")).toHaveLength(2);
  });

  it("installs globally and runs through npx from the tarball", () => {
    const globalPrefix = join(scratch, "global");
    npm(["install", "--global", "--prefix", globalPrefix, tarball, "--no-audit", "--no-fund"], scratch);
    const version = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")).version;
    expect(execFileSync(join(globalPrefix, "bin/poolguard"), ["--version"], { encoding: "utf8" }).trim()).toBe(version);
    const repo = sampleRepo("npx-sample");
    const viaNpx = spawnSync("npx", ["--yes", `--package=${tarball}`, "poolguard", "scan", ".", "--format", "json", "--fail-on", "never"], { cwd: repo, env: npmEnv, encoding: "utf8" });
    expect(viaNpx.status).toBe(0);
    expect(JSON.parse(viaNpx.stdout).root).toBe(repo);
  }, installTimeout);
});

type Step = { id?: string; run?: string; env?: Record<string, string>; uses?: string; if?: string };

describe("the GitHub Action", () => {
  const action = parse(readFileSync(join(projectRoot, "action.yml"), "utf8")) as { runs: { using: string; steps: Step[] } };
  const step = (id: string) => action.runs.steps.find((s) => s.id === id) as Step;

  /** Runs one step's script the way the runner does (bash -e, outputs in $GITHUB_OUTPUT). */
  function runStep(id: string, env: Record<string, string>, cwd: string) {
    const runnerTemp = join(scratch, "runner-temp");
    mkdirSync(runnerTemp, { recursive: true });
    const outputFile = join(runnerTemp, `${id}-output`);
    writeFileSync(outputFile, "");
    const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step(id).run as string], {
      cwd,
      encoding: "utf8",
      env: { ...npmEnv, RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: outputFile, GITHUB_PATH: join(runnerTemp, "path"), ...env },
    });
    const outputs = Object.fromEntries(
      readFileSync(outputFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    return { code: result.status, stdout: result.stdout, stderr: result.stderr, outputs };
  }

  it("is a composite action whose scripts take inputs only through env, and uploads SARIF", () => {
    expect(action.runs.using).toBe("composite");
    for (const s of action.runs.steps) if (s.run) expect(s.run, s.id).not.toContain("${{");
    expect(action.runs.steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"))).toBeDefined();
  });

  it("installs the packed CLI and, on a pull request, reports only the lines it changes", () => {
    const install = runStep("install", { INPUT_PACKAGE: tarball, ACTION_PATH: projectRoot }, scratch);
    expect(install.stderr).toBe("");
    expect(install.code).toBe(0);
    expect(existsSync(install.outputs.bin)).toBe(true);

    const repo = sampleRepo("pr-sample");
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=t@t", "-c", "user.name=t", ...args], { cwd: repo, encoding: "utf8" });
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "base");
    const base = git("rev-parse", "HEAD").trim();
    writeFileSync(
      join(repo, "src/new_handler.py"),
      "from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n\n\ndef handler():\n    session = SessionLocal()\n    return session.query(User).all()\n",
    );
    git("add", ".");
    git("commit", "-qm", "pull request");
    const inputs = {
      POOLGUARD: install.outputs.bin,
      INPUT_PATHS: "",
      INPUT_CONFIG: "",
      INPUT_FAIL_ON: "warning",
      INPUT_CHANGED_LINES_ONLY: "true",
      INPUT_SARIF_FILE: "poolguard.sarif",
      INPUT_ARGS: "--jobs 1",
      EVENT_NAME: "pull_request",
      BASE_SHA: base,
    };
    const pr = runStep("scan", inputs, repo);
    expect(pr.code).toBe(0);
    expect(pr.outputs).toMatchObject({ "exit-code": "1", findings: "1", "sarif-file": "poolguard.sarif" });
    const sarif = JSON.parse(readFileSync(join(repo, "poolguard.sarif"), "utf8"));
    expect(sarif.runs[0].results.map((r: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) => r.locations[0].physicalLocation.artifactLocation.uri)).toEqual([
      "src/new_handler.py",
    ]);

    // A push scans everything; fail-on never keeps the exit status 0.
    const push = runStep("scan", { ...inputs, EVENT_NAME: "push", BASE_SHA: "", INPUT_FAIL_ON: "never", INPUT_PATHS: "src\n" }, repo);
    expect(push.code).toBe(0);
    expect(push.outputs["exit-code"]).toBe("0");
    expect(Number(push.outputs.findings)).toBeGreaterThan(5);

    // A scan that cannot run fails the step with a message instead of uploading nothing.
    const broken = runStep("scan", { ...inputs, EVENT_NAME: "push", INPUT_CONFIG: "missing.yml" }, repo);
    expect(broken.code).toBe(2);
    expect(broken.stdout).toContain("::error::poolguard could not scan the repository (exit status 2)");
  }, installTimeout);
});
