// npm run bench:python [-- CORPUS]
//
// One run, one corpus (default: Debian's Python 3.11 standard library with its test
// suite, /usr/lib/python3.11, from the libpython3.11-testsuite package):
//   1. Poolguard full scan with the packaged CLI (both cores): the bundle that
//      `npm run build:cli` writes and `npm pack` ships, built afresh into a scratch folder
//      from this checkout; its analysis processes run the bundle's worker too
//   2. the same scan with the checkout's CLI (bin/poolguard.mjs, which runs the TypeScript
//      sources through tsx: about half a second more CPU per process); `--bundle-only` skips it
//   3. ast-grep with three structural rules of the same kind (both cores)
//   4. parse-only with Poolguard's own parser (native tree-sitter), both cores, bundled the
//      same way (no TypeScript loader in the timed processes)
// Prints wall time, CPU time (user + system of the process tree, with GNU time), ratios and
// the peak memory of each process tree. CORPUS may be any folder of Python code, e.g. polar's
// `server/` at c6c3645e extracted by bench/false-alarms.ts:
//   npm run bench:python -- /tmp/poolguard-fa/polar-server-c6c3645e639e/tree/server [--bundle-only]
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const positional = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const bundleOnly = process.argv.includes("--bundle-only");
const corpus = positional[0] ?? "/usr/lib/python3.11";

/**
 * The packaged CLI, built from this checkout by scripts/build-cli.mjs (what `npm pack`
 * ships) into DIR/dist, plus EXTRA entry points bundled with the same settings. DIR gets a
 * node_modules link to the checkout's, where an install would have the CLI's dependencies.
 */
export function buildBundle(dir: string, extra: Record<string, string> = {}): string {
  const outdir = join(dir, "dist");
  const entries = Object.entries(extra).flatMap(([name, path]) => ["--entry", `${name}=${path}`]);
  execFileSync(process.execPath, [join(root, "scripts/build-cli.mjs"), "--outdir", outdir, ...entries], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return outdir;
}

function ensureCorpus() {
  if (positional[0]) return;
  if (existsSync(join(corpus, "test", "test_grammar.py"))) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    console.error("The benchmark corpus needs Debian's Python test suite: sudo apt-get install -y libpython3.11-testsuite");
    process.exit(1);
  }
  console.error("[bench] installing libpython3.11-testsuite from Debian…");
  execFileSync("apt-get", ["install", "-y", "-qq", "libpython3.11-testsuite"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

function pythonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) out.push(...pythonFiles(path));
    else if (name.endsWith(".py")) out.push(path);
  }
  return out;
}

/**
 * Resident memory of a process and all its descendants, from /proc. Follows
 * each task's children list under /proc/PID/task instead of reading every process, so the
 * sampler itself stays cheap next to the run it measures.
 */
function treeRss(pid: number): number {
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    try {
      const statm = readFileSync(`/proc/${p}/statm`, "utf8").split(" ");
      total += Number(statm[1]) * 4096;
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim();
        if (children) stack.push(...children.split(" ").map(Number));
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

type Measured = { label: string; seconds: number; peakMb: number; output: string; cpuSeconds: number | null; commands: Set<string> };

/** The script each process of the tree runs (node's first argument), to show what was timed. */
function treeCommands(pid: number, into: Set<string>): void {
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").filter(Boolean);
      const script = /(^|\/)node$/.test(argv[0] ?? "") ? argv.find((arg, i) => i > 0 && !arg.startsWith("-")) : undefined;
      if (script) into.add(script.replace(`${root}/`, ""));
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim();
        if (children) stack.push(...children.split(" ").map(Number));
      }
    } catch {
      // the process ended meanwhile
    }
  }
}

/**
 * CPU time (user + system) of a process and every descendant it waited for, from GNU
 * time: wall-clock ratios on a shared machine depend on what else runs, CPU time much less.
 */
const gnuTime = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

function measure(label: string, command: string, args: string[], cwd = root): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const timeFile = gnuTime ? join(tmpdir(), `poolguard-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`) : null;
    const child = timeFile
      ? spawn(gnuTime as string, ["-o", timeFile, "-f", "%U %S", command, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] })
      : spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    let peak = 0;
    let samples = 0;
    const commands = new Set<string>();
    const sampler = setInterval(() => {
      if (!child.pid) return;
      peak = Math.max(peak, treeRss(child.pid));
      // Which scripts the processes run, now and then: cheap enough not to disturb the run.
      if (samples++ % 10 === 5) treeCommands(child.pid, commands);
    }, 100);
    child.on("exit", (code) => {
      clearInterval(sampler);
      const seconds = (performance.now() - started) / 1000;
      let cpuSeconds: number | null = null;
      if (timeFile && existsSync(timeFile)) {
        const [user, sys] = readFileSync(timeFile, "utf8").trim().split("\n").pop()?.split(" ").map(Number) ?? [];
        if (Number.isFinite(user) && Number.isFinite(sys)) cpuSeconds = user + sys;
        rmSync(timeFile, { force: true });
      }
      if (code !== 0 && code !== 1) reject(new Error(`${label} exited with ${code}:\n${output.slice(-2000)}`));
      else resolve({ label, seconds, peakMb: peak / 1024 / 1024, output, cpuSeconds, commands });
    });
  });
}

const parseOnlyScript = `
import { readFileSync } from "node:fs";
import { pythonPlugin } from "${join(root, "lib/analyzer/python/plugin.ts")}";
// Bundled with the CLI's settings: a module that runs when its bundle is loaded.
const files = JSON.parse(readFileSync(process.argv[2], "utf8"));
const shard = Number(process.argv[3]);
const shards = Number(process.argv[4]);
let parsed = 0;
for (let i = shard; i < files.length; i += shards) {
  pythonPlugin.parseOnly({ path: files[i], text: readFileSync(files[i], "utf8") });
  parsed++;
}
console.log(parsed);
`;

const sgRules = `id: session-assigned-from-factory
language: python
rule:
  pattern: $S = SessionLocal()
message: session from a factory bound to a name
severity: warning
---
id: manual-aenter
language: python
rule:
  pattern: $X.__aenter__()
message: manual __aenter__
severity: warning
---
id: engine-in-function
language: python
rule:
  pattern: create_engine($$$)
  inside:
    kind: function_definition
    stopBy: end
message: engine created inside a function
severity: warning
`;

async function main() {
  ensureCorpus();
  const files = pythonFiles(corpus);
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  const cores = Math.min(2, cpus().length);
  console.log(`corpus: ${corpus}: ${files.length} .py files, ${(bytes / 1e6).toFixed(1)} MB; ${cores} cores; load average ${loadavg()[0].toFixed(1)} at the start\n`);
  const scratch = mkdtempSync(join(tmpdir(), "poolguard-bench-"));
  try {
    const list = join(scratch, "files.json");
    writeFileSync(list, JSON.stringify(files));
    const parseScript = join(scratch, "parse-only.mts");
    writeFileSync(parseScript, parseOnlyScript);
    writeFileSync(join(scratch, "sgconfig.yml"), "ruleDirs: [rules]\n");
    mkdirSync(join(scratch, "rules"));
    for (const [i, rule] of sgRules.split("---\n").entries()) writeFileSync(join(scratch, "rules", `rule-${i}.yml`), rule);

    // The packaged CLI and the parse-only driver, bundled from this checkout (untimed).
    const bundle = buildBundle(join(scratch, "cli"), { "parse-only": parseScript });
    const scanArgs = ["scan", corpus, "--format", "json", "--fail-on", "never", "--jobs", String(cores)];
    // Warm the file system cache (and, for the checkout's CLI, tsx's transpile cache) once, untimed.
    await measure("warm-up", process.execPath, [join(bundle, "cli.mjs"), ...scanArgs]);
    if (!bundleOnly) await measure("warm-up", process.execPath, [join(root, "bin/poolguard.mjs"), ...scanArgs]);

    const scanRun = await measure("poolguard scan (packaged CLI)", process.execPath, [join(bundle, "cli.mjs"), ...scanArgs]);
    const checkoutRun = bundleOnly ? null : await measure("poolguard scan (checkout CLI, tsx)", process.execPath, [join(root, "bin/poolguard.mjs"), ...scanArgs]);
    const astGrep = await measure("ast-grep (3 rules)", join(root, "node_modules/.bin/ast-grep"), ["scan", "--config", join(scratch, "sgconfig.yml"), "--threads", String(cores), "--json=compact", corpus], scratch);
    // Parse-only on both cores: one process per core, each parsing every other file.
    const parseStarted = performance.now();
    const shards = await Promise.all(
      Array.from({ length: cores }, (_, i) => measure(`parse-only shard ${i}`, process.execPath, [join(bundle, "parse-only.mjs"), list, String(i), String(cores)])),
    );
    const parseOnly = {
      label: "parse-only (tree-sitter)",
      seconds: (performance.now() - parseStarted) / 1000,
      peakMb: shards.reduce((n, s) => n + s.peakMb, 0),
      cpuSeconds: shards.every((s) => s.cpuSeconds !== null) ? shards.reduce((n, s) => n + (s.cpuSeconds as number), 0) : null,
    };

    const report = JSON.parse(scanRun.output.slice(0, scanRun.output.lastIndexOf("}") + 1));
    const rows = [scanRun, ...(checkoutRun ? [checkoutRun] : []), astGrep, parseOnly];
    console.log("| run | wall time | CPU time (user+sys, process tree) | peak memory |");
    console.log("|---|---|---|---|");
    for (const r of rows) console.log(`| ${r.label} | ${r.seconds.toFixed(2)} s | ${r.cpuSeconds === null ? "n/a" : `${r.cpuSeconds.toFixed(2)} s`} | ${r.peakMb.toFixed(0)} MB |`);
    console.log("");
    const ratio = (a: number | null, b: number | null) => (a === null || b === null ? "n/a" : `${(a / b).toFixed(2)}x`);
    console.log("ratios of the packaged CLI's scan (target: scan / ast-grep <= 1.5):");
    console.log(`  scan / ast-grep:   wall ${ratio(scanRun.seconds, astGrep.seconds)}, CPU ${ratio(scanRun.cpuSeconds, astGrep.cpuSeconds)}`);
    console.log(`  scan / parse-only: wall ${ratio(scanRun.seconds, parseOnly.seconds)}, CPU ${ratio(scanRun.cpuSeconds, parseOnly.cpuSeconds)}`);
    if (checkoutRun) console.log(`  checkout CLI / ast-grep: wall ${ratio(checkoutRun.seconds, astGrep.seconds)}, CPU ${ratio(checkoutRun.cpuSeconds, astGrep.cpuSeconds)}`);
    console.log(`peak memory:       ${scanRun.peakMb.toFixed(0)} MB (target <= 1024)`);
    // What ran: the packaged scan's processes must all be the bundle's (no TypeScript loader).
    console.log(`packaged scan's processes ran: ${[...scanRun.commands].map((c) => c.replace(`${scratch}/`, "$SCRATCH/")).join(", ")}`);
    // The cores are shared with other work: the ratios are only as good as the machine was quiet.
    console.log(`load average:      ${loadavg()[0].toFixed(1)} at the end (1-minute)`);
    console.log(`poolguard: ${report.files_scanned} files analysed, ${report.findings.length} findings, ${report.errors.length} not analysed, ${report.skipped.length} skipped`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
