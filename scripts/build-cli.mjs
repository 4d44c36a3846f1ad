#!/usr/bin/env node
// Builds the installable CLI into dist/: lib/cli and lib/analyzer bundled to plain
// JavaScript with esbuild, so an installed package needs neither tsx nor the web app.
// Runs on `npm pack` / `npm publish` and when npm installs Poolguard from a git URL
// (both through `prepare`), and by hand with `npm run build:cli`.
//
// Only the packages that cannot or should not be bundled stay external (the native
// tree-sitter modules and ts-morph, which carries its own TypeScript compiler); they
// are the package's `dependencies`. Everything else the analyzer imports is bundled,
// so the web app's packages can live in devDependencies and never reach users.
//
//   node scripts/build-cli.mjs [--outdir DIR] [--entry NAME=PATH ...]
//
// --entry adds an entry point beside the CLI's two (the benchmarks bundle their own
// drivers with the same settings, so they time the code users run): never for a package.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..");

// Through `prepare`, build only for a package: `npm pack` / `npm publish`, or npm
// preparing a git URL install. `npm install` / `npm ci` in a checkout skip it (the
// checkout runs the sources), so a bundling problem can never break the web app's install.
const gitInstall = process.env._PACOTE_NO_PREPARE_ || /[\\/]_cacache[\\/]tmp[\\/]git-clone/.test(root);
const forPackage = gitInstall || ["pack", "publish"].includes(process.env.npm_command ?? "");
if (process.env.npm_lifecycle_event === "prepare" && !forPackage) process.exit(0);
const { values } = parseArgs({ options: { outdir: { type: "string" }, entry: { type: "string", multiple: true } } });
const outdir = resolve(values.outdir ?? join(root, "dist"));
const extraEntries = {};
for (const entry of values.entry ?? []) {
  const at = entry.indexOf("=");
  if (at <= 0) {
    console.error(`build-cli: --entry takes NAME=PATH, not "${entry}"`);
    process.exit(1);
  }
  extraEntries[entry.slice(0, at)] = entry.slice(at + 1);
}

export const externalPackages = ["tree-sitter", "tree-sitter-python", "ts-morph"];

const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const missing = externalPackages.filter((name) => !manifest.dependencies?.[name]);
if (missing.length > 0) {
  console.error(`build-cli: ${missing.join(", ")} must be in package.json "dependencies" (the installed CLI loads them at run time)`);
  process.exit(1);
}

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  console.error("build-cli: esbuild is not installed; run `npm install` in the checkout first");
  process.exit(1);
}

// The server's parts (lib/db and Prisma, the web app's database drivers) are not in the
// package. A command that needs them (`poolguard admin`) gets a module that says so
// when it is loaded, instead of a bundle dragging in a database client.
const serverOnlyDirs = [join(root, "lib", "db"), join(root, "app")];
const serverOnlyPackages = /^(@prisma\/|prisma$|better-sqlite3$|pg$|next(\/|$)|react(-dom)?(\/|$)|bullmq$|ioredis$)/;
const stubbed = new Set();
const serverOnly = {
  name: "server-only",
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      const absolute = args.path.startsWith(".") ? resolve(args.resolveDir, args.path) : null;
      const inServer = absolute !== null && serverOnlyDirs.some((dir) => absolute === dir || absolute.startsWith(`${dir}/`));
      if (!inServer && !serverOnlyPackages.test(args.path)) return undefined;
      stubbed.add(`${args.path} (from ${args.importer.slice(root.length + 1)})`);
      return { path: absolute ?? args.path, namespace: "server-only" };
    });
    build.onLoad({ filter: /.*/, namespace: "server-only" }, () => ({
      // CommonJS, so the importers' named imports stay unchecked: loading it is the error.
      contents:
        'module.exports = {};\nthrow new Error("this command runs on a Poolguard server (a checkout of the repository with its database); the poolguard package is the CLI only");',
      loader: "js",
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
try {
  await esbuild.build({
    absWorkingDir: root,
    // cli.mjs is the program; worker-bootstrap.mjs is the analysis process that
    // lib/analyzer/engine/run-scan.ts forks from the same folder.
    entryPoints: { cli: "lib/cli/bin.ts", "worker-bootstrap": "lib/analyzer/engine/worker.ts", ...extraEntries },
    outdir,
    bundle: true,
    // Splitting keeps the language plugins in their own chunks, loaded only when a scan
    // has files of that language (listing rules never loads a parser).
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20.9",
    outExtension: { ".js": ".mjs" },
    external: externalPackages,
    plugins: [serverOnly],
    // CommonJS packages bundled into ES modules call require() for Node's built-ins:
    // give every chunk a real one.
    banner: { js: 'import { createRequire as __poolguardRequire } from "node:module"; const require = __poolguardRequire(import.meta.url);' },
    legalComments: "linked",
    logLevel: "warning",
  });
} catch {
  // esbuild has already printed what it could not build.
  console.error("build-cli: the CLI bundle could not be built");
  process.exit(1);
}
if (stubbed.size > 0) console.error(`build-cli: left out of the package (server only): ${[...stubbed].sort().join(", ")}`);
if (!existsSync(join(outdir, "cli.mjs")) || !existsSync(join(outdir, "worker-bootstrap.mjs"))) {
  console.error("build-cli: esbuild did not write cli.mjs and worker-bootstrap.mjs");
  process.exit(1);
}
// stderr: `npm pack --json` runs this through prepare and its stdout must stay JSON.
console.error(`built the CLI into ${outdir}`);
