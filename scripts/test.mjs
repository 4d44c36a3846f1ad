#!/usr/bin/env node
// `npm test`: every suite, in one command, on a fresh machine.
//
// Stages: lint, typecheck, unit, integration on SQLite, integration on PostgreSQL,
// browser. Services (PostgreSQL, Redis, the app itself) are started here on 127.0.0.1
// with throwaway data and stopped at the end. Missing system packages are installed
// from Debian when we are root, or named precisely before failing. A skipped test
// counts as a failure: a suite that did not run proves nothing.
//
// `node scripts/test.mjs unit integration` runs only the named stages (for development);
// file filters after `--` go to vitest (`node scripts/test.mjs integration -- crash`).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureSystemRequirements, requirements } from "./lib/system-deps.mjs";
import { freePort, startRedis } from "./lib/redis.mjs";

const root = resolve(import.meta.dirname, "..");
const resultsDir = join(root, "test-results");
const allStages = ["lint", "typecheck", "unit", "integration", "browser"];
const dashDash = process.argv.indexOf("--");
const fileFilters = dashDash === -1 ? [] : process.argv.slice(dashDash + 1);
const requested = (dashDash === -1 ? process.argv.slice(2) : process.argv.slice(2, dashDash)).filter((a) => !a.startsWith("-"));
for (const stage of requested) {
  if (!allStages.includes(stage)) {
    console.error(`unknown stage "${stage}"; stages: ${allStages.join(", ")}`);
    process.exit(2);
  }
}
const stages = requested.length > 0 ? requested : allStages;
const wants = (stage) => stages.includes(stage);

const baseEnv = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: "1",
  CHECKPOINT_DISABLE: "1",
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  NO_COLOR: process.env.CI ? "1" : (process.env.NO_COLOR ?? ""),
};
if (!baseEnv.NO_COLOR) delete baseEnv.NO_COLOR;

/** @type {{ name: string, passed: number, failed: number, skipped: number, ok: boolean, seconds: number }[]} */
const summary = [];
const cleanups = [];

function log(message) {
  console.log(`\n=== ${message}`);
}

function run(command, args, { env = baseEnv, cwd = root } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd, env, stdio: "inherit" });
    child.on("exit", (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
    child.on("error", (error) => {
      console.error(`failed to run ${command}: ${error.message}`);
      resolvePromise(1);
    });
  });
}

function readJson(path) {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

async function step(name, command, args, options) {
  log(name);
  const started = Date.now();
  const code = await run(command, args, options);
  summary.push({ name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0, ok: code === 0, seconds: (Date.now() - started) / 1000, checks: true });
}

async function vitestStage(name, project, env, extraArgs = []) {
  log(name);
  const started = Date.now();
  const output = join(resultsDir, `${name.replace(/[^a-z0-9]+/gi, "-")}.json`);
  rmSync(output, { force: true });
  const code = await run(
    "npx",
    ["vitest", "run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${output}`, ...extraArgs, ...fileFilters],
    // Vitest writes a missing snapshot (a new fixture's expected fixed file) and passes unless CI
    // is set; here a missing expectation must fail, or the test could not fail.
    { env: { ...env, CI: "1" } },
  );
  const report = readJson(output);
  const passed = report?.numPassedTests ?? 0;
  const failed = report?.numFailedTests ?? (code === 0 ? 0 : 1);
  const skipped = (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0);
  const ok = code === 0 && report !== null && failed === 0 && skipped === 0 && passed > 0;
  if (skipped > 0) console.error(`${name}: ${skipped} skipped/todo tests: skipping is not allowed`);
  if (report !== null && passed === 0) console.error(`${name}: no test ran`);
  summary.push({ name, passed, failed: Math.max(failed, ok ? 0 : 1), skipped, ok, seconds: (Date.now() - started) / 1000 });
}

async function waitForHealth(url, child, timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited with code ${child.exitCode} before answering`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no healthy answer from ${url} within ${timeoutMs / 1000} s`);
}

/** Start tests/support/fake-github/serve.ts; resolves once it printed where it listens. */
async function startFakeGitHubProcess() {
  const child = spawn("npx", ["tsx", "tests/support/fake-github/serve.ts"], { cwd: root, env: baseEnv, stdio: ["ignore", "pipe", "pipe"] });
  cleanups.push(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.on("exit", r));
    child.kill("SIGTERM");
    await exited;
  });
  let output = "";
  child.stderr.on("data", (d) => {
    output += d;
  });
  const info = await new Promise((resolveInfo, reject) => {
    const timer = setTimeout(() => reject(new Error(`the fake GitHub did not start in 60 s\n${output}`)), 60_000);
    child.stdout.on("data", (d) => {
      output += d;
      const line = output.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      clearTimeout(timer);
      resolveInfo(JSON.parse(line));
    });
    child.on("exit", (code) => reject(new Error(`the fake GitHub exited (${code})\n${output}`)));
  });
  return {
    env: {
      GITHUB_API_URL: info.apiUrl,
      GITHUB_APP_ID: info.appId,
      GITHUB_APP_PRIVATE_KEY: info.privateKey,
      GITHUB_CLIENT_ID: info.clientId,
      GITHUB_CLIENT_SECRET: info.clientSecret,
      FAKE_GITHUB_CONTROL_URL: info.controlUrl,
    },
  };
}

async function browserStage(scratch) {
  log("browser (Playwright + Debian Chromium)");
  const started = Date.now();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const email = "admin@poolguard.test";
  const password = randomBytes(18).toString("base64url");
  // A local checkout the browser suite connects and scans (only folders under
  // POOLGUARD_LOCAL_ROOTS may be added as repositories).
  const checkouts = join(scratch, "checkouts");
  const localRepo = join(checkouts, "orders-service");
  mkdirSync(checkouts, { recursive: true });
  cpSync(join(root, "tests", "fixtures", "python", "session-not-closed"), localRepo, { recursive: true });
  // The fake GitHub (the one test double) runs before the app, so the app's environment
  // points at it: one App installation with a leaky Python repository, and OAuth.
  const github = await startFakeGitHubProcess();
  const env = {
    ...baseEnv,
    ...github.env,
    PORT: String(port),
    DATABASE_URL: `file:${join(scratch, "browser.db")}`,
    POOLGUARD_ADMIN_EMAIL: email,
    POOLGUARD_ADMIN_PASSWORD: password,
    POOLGUARD_LOCAL_ROOTS: checkouts,
    POOLGUARD_TEST_LOCAL_REPO: localRepo,
  };
  const app = spawn("node", ["scripts/start.mjs"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let appOutput = "";
  app.stdout.on("data", (d) => {
    appOutput += d;
  });
  app.stderr.on("data", (d) => {
    appOutput += d;
  });
  const stopApp = async () => {
    if (app.exitCode !== null) return;
    const exited = new Promise((r) => app.on("exit", r));
    app.kill("SIGTERM");
    const timer = setTimeout(() => app.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  cleanups.push(stopApp);
  try {
    await waitForHealth(`${baseUrl}/api/health`, app);
  } catch (error) {
    console.error(`the app did not start: ${error.message}\n--- app output ---\n${appOutput}`);
    await stopApp();
    summary.push({ name: "browser", passed: 0, failed: 1, skipped: 0, ok: false, seconds: (Date.now() - started) / 1000 });
    return;
  }
  const output = join(resultsDir, "browser.json");
  rmSync(output, { force: true });
  // The seed prints a one-time sign-in link on the server console; the browser suite
  // checks that it works once.
  const link = appOutput.match(/https?:\/\/\S+\/sign-in\/link\?token=\S+/)?.[0] ?? "";
  const code = await run("npx", ["playwright", "test", "--reporter=list,json"], {
    env: { ...env, BASE_URL: baseUrl, PLAYWRIGHT_JSON_OUTPUT_NAME: output, POOLGUARD_SIGN_IN_LINK: link },
  });
  await stopApp();
  const stats = readJson(output)?.stats;
  const passed = (stats?.expected ?? 0) + (stats?.flaky ?? 0);
  const failed = stats?.unexpected ?? (code === 0 ? 0 : 1);
  const skipped = stats?.skipped ?? 0;
  const ok = code === 0 && stats !== undefined && failed === 0 && skipped === 0 && passed > 0;
  if (!ok && appOutput) console.error(`--- app output (last 4000 chars) ---\n${appOutput.slice(-4000)}`);
  summary.push({ name: "browser", passed, failed: Math.max(failed, ok ? 0 : 1), skipped, ok, seconds: (Date.now() - started) / 1000 });
}

async function main() {
  mkdirSync(resultsDir, { recursive: true });
  const needsServices = wants("integration") || wants("browser");
  if (needsServices) {
    log("system packages");
    ensureSystemRequirements((m) => console.log(m));
    console.log(`${requirements.map((r) => r.name).join(", ")}: present`);
  }
  if (wants("lint")) await step("lint (biome)", "npx", ["biome", "check", "."]);
  if (wants("typecheck")) await step("typecheck (tsc --noEmit)", "npx", ["tsc", "--noEmit", "-p", "tsconfig.json"]);
  if (wants("unit")) await vitestStage("unit", "unit", baseEnv);

  const scratch = mkdtempSync(join(tmpdir(), "poolguard-test-"));
  cleanups.push(async () => rmSync(scratch, { recursive: true, force: true }));

  if (wants("integration")) {
    log("services: PostgreSQL and Redis on 127.0.0.1 (throwaway data directories)");
    const { startPostgres } = await import("./lib/postgres.mjs");
    const postgres = await startPostgres({ log: (m) => console.log(m) });
    cleanups.push(() => postgres.stop());
    const redis = await startRedis({ log: (m) => console.log(m) });
    cleanups.push(() => redis.stop());
    const common = { ...baseEnv, REDIS_URL: redis.url, POOLGUARD_TEST_POSTGRES_URL: postgres.url };
    // The fix programs (tests/integration/fixes) bring their own SQLite files and use the
    // PostgreSQL server whatever the app database is: they run once, in the PostgreSQL pass.
    await vitestStage(
      "integration on sqlite",
      "integration",
      { ...common, POOLGUARD_TEST_PROVIDER: "sqlite", DATABASE_URL: `file:${join(scratch, "integration.db")}` },
      ["--exclude", "tests/integration/fixes/**"],
    );
    await vitestStage("integration on postgresql", "integration", {
      ...common,
      POOLGUARD_TEST_PROVIDER: "postgresql",
      DATABASE_URL: postgres.url,
    });
  }
  if (wants("browser")) await browserStage(scratch);
}

async function cleanup() {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (error) {
      console.error(`cleanup: ${error.message}`);
    }
  }
  cleanups.length = 0;
}

function report() {
  console.log("\n=== summary");
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const s of summary) {
    const counts = s.checks ? "" : ` ${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ""}`;
    console.log(`${s.ok ? "ok  " : "FAIL"} ${s.name}:${counts} (${s.seconds.toFixed(1)} s)`);
    if (s.checks) continue;
    passed += s.passed;
    failed += s.failed;
    skipped += s.skipped;
  }
  const failedChecks = summary.filter((s) => s.checks && !s.ok).length;
  const allOk = summary.length > 0 && summary.every((s) => s.ok);
  console.log(`\n${passed} passed, ${failed + failedChecks} failed${skipped ? `, ${skipped} skipped` : ""}`);
  return allOk;
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await cleanup();
    process.exit(130);
  });
}

let ok = false;
try {
  await main();
  ok = true;
} catch (error) {
  console.error(`\n${error instanceof Error ? error.message : error}`);
  summary.push({ name: "setup", passed: 0, failed: 1, skipped: 0, ok: false, seconds: 0 });
} finally {
  await cleanup();
}
const allOk = report() && ok;
process.exit(allOk ? 0 : 1);
