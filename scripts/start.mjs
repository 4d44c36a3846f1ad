#!/usr/bin/env node
// `npm start`: build when needed, migrate, seed the demo workspace, serve on HOST
// (default 127.0.0.1; 0.0.0.0 or :: for every interface) and PORT (default 3000) through
// scripts/serve.mjs (request ids, structured logs), and run one job worker (scans, schedules) beside the web server unless
// POOLGUARD_WEB_ONLY=1 (then run `npm run worker` elsewhere).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { migrate } from "./migrate.mjs";

const root = join(import.meta.dirname, "..");
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" };
const port = Number(process.env.PORT || 3000);
// Loopback by default: Poolguard is meant to sit behind a reverse proxy that terminates
// TLS (and whose X-Forwarded-For the rate limits trust). HOST=0.0.0.0 serves every interface.
const host = process.env.HOST || "127.0.0.1";
const displayHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
const baseUrl = `http://${displayHost}:${port}`;

// What the production build depends on. A hash of paths, sizes and mtimes is cheap and
// catches edits, checkouts and dependency upgrades.
const buildInputs = ["app", "lib", "public", "package.json", "package-lock.json", "next.config.ts", "postcss.config.mjs", "tsconfig.json"];
const skip = new Set(["node_modules", ".next", "generated", "data"]);

function sourceStamp() {
  const hash = createHash("sha256");
  const visit = (path) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) if (!skip.has(entry)) visit(join(path, entry));
      return;
    }
    hash.update(`${relative(root, path)}:${stat.size}:${stat.mtimeMs}\n`);
  };
  for (const input of buildInputs) visit(join(root, input));
  return hash.digest("hex");
}

function buildIfNeeded() {
  const stampFile = join(root, ".next", "poolguard-build-stamp");
  const stamp = sourceStamp();
  const built = existsSync(join(root, ".next", "BUILD_ID")) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp;
  if (built) {
    console.log("[start] build is up to date");
    return;
  }
  console.log("[start] building the web app (next build)…");
  const result = spawnSync(process.execPath, [join(root, "node_modules/next/dist/bin/next"), "build"], { cwd: root, env, stdio: "inherit" });
  if (result.status !== 0) {
    console.error("[start] next build failed");
    process.exit(result.status ?? 1);
  }
  writeFileSync(stampFile, stamp);
}

function seed() {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(root, "scripts/seed-demo.ts"), "--base-url", baseUrl], {
    cwd: root,
    env,
    stdio: "inherit",
  });
  if (result.status !== 0) {
    console.error("[start] seeding the demo workspace failed");
    process.exit(result.status ?? 1);
  }
}

buildIfNeeded();
try {
  await migrate(undefined, { quiet: false });
} catch (error) {
  console.error(`[start] migration failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
seed();

const server = spawn(process.execPath, [join(root, "scripts/serve.mjs")], {
  cwd: root,
  env: { ...env, HOST: host, PORT: String(port) },
  stdio: "inherit",
});
console.log(`[start] Poolguard is starting on ${baseUrl}${host === displayHost ? "" : ` (listening on ${host})`}`);
// The worker is its own process: a scan's memory and CPU never slow the web server, and
// the same program scales out with `npm run worker` on other machines.
const worker =
  process.env.POOLGUARD_WEB_ONLY === "1" ? null : spawn(process.execPath, [join(root, "scripts/worker.mjs")], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.kill(signal);
    worker?.kill(signal);
  });
}
worker?.on("exit", (code, signal) => {
  if (server.exitCode === null && !signal) console.error(`[start] the job worker exited (code ${code}); scans wait until it runs again`);
});
server.on("exit", (code, signal) => {
  worker?.kill("SIGTERM");
  process.exit(code ?? (signal ? 0 : 1));
});
