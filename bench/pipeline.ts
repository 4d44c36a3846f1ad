// npx tsx bench/pipeline.ts [--lines N] [--small-scans N]     (--lines 0: small scans only)
//
// The scan pipeline end to end, on this machine:
//   1. a generated repository of ~1M lines (bench/pipeline-repo.ts, under /tmp):
//      the analyzer alone (the CLI) against the same files added through the REST API
//      and scanned by a worker process: wall time and the worker's peak memory;
//   2. scans per minute of a small repository (the demo, 13 files) with 1 and 2 workers.
// The API runs as its real route handlers behind a minimal node:http adapter (no
// `next build` needed); the database is a fresh SQLite file (or DATABASE_URL).
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeGeneratedRepo } from "./pipeline-repo.ts";

const root = join(import.meta.dirname, "..");
const { values } = parseArgs({ options: { lines: { type: "string", default: "1000000" }, "small-scans": { type: "string", default: "40" } } });
const targetLines = Number(values.lines);
const smallScans = Number(values["small-scans"]);
const work = `/tmp/poolguard-bench-pipeline-${process.pid}`;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
process.env.DATABASE_URL ||= `file:${join(work, "bench.db")}`;
process.env.POOLGUARD_LOCAL_ROOTS = work;
delete process.env.REDIS_URL;

function treeRss(pid: number): number {
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    try {
      total += Number(readFileSync(`/proc/${p}/statm`, "utf8").split(" ")[1]) * 4096;
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim();
        if (children) stack.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

function sampler(child: ChildProcess) {
  let peak = 0;
  const timer = setInterval(() => {
    if (child.pid) peak = Math.max(peak, treeRss(child.pid));
  }, 200);
  return { peakMb: () => peak / 1024 / 1024, stop: () => clearInterval(timer) };
}

function runCli(dir: string): Promise<{ seconds: number; peakMb: number; findings: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const out = join(work, "cli.json");
    const child = spawn(process.execPath, [join(root, "bin/poolguard.mjs"), "scan", dir, "--format", "json", "--output", out, "--fail-on", "never"], { stdio: "ignore" });
    const memory = sampler(child);
    child.on("exit", (code) => {
      memory.stop();
      if (code !== 0) return reject(new Error(`poolguard scan exited with ${code}`));
      const findings = JSON.parse(readFileSync(out, "utf8")).findings.length;
      resolve({ seconds: (performance.now() - started) / 1000, peakMb: memory.peakMb(), findings });
    });
  });
}

// ---- the API behind node:http ----
type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
const table: [RegExp, string, string[]][] = [
  [/^\/api\/v1\/repositories$/, "repositories/route.ts", []],
  [/^\/api\/v1\/repositories\/([^/]+)$/, "repositories/[id]/route.ts", ["id"]],
  [/^\/api\/v1\/repositories\/([^/]+)\/scans$/, "repositories/[id]/scans/route.ts", ["id"]],
  [/^\/api\/v1\/scans\/([^/]+)$/, "scans/[id]/route.ts", ["id"]],
];

async function serveApi(): Promise<{ url: string; close: () => void }> {
  const modules = new Map<string, Record<string, Handler>>();
  for (const [, file] of table) modules.set(file, await import(join(root, "app/api/v1", file)));
  const body = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks)));
    });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    for (const [pattern, file, names] of table) {
      const match = pattern.exec(url.pathname);
      const handler = match && modules.get(file)?.[req.method ?? "GET"];
      if (!match || !handler) continue;
      const payload = req.method === "GET" ? undefined : await body(req);
      const request = new Request(url, { method: req.method, headers: req.headers as Record<string, string>, body: payload ? new Uint8Array(payload) : undefined });
      const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1])]));
      const response = await handler(request, { params: Promise.resolve(params) });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`, close: () => server.close() };
}

// Workers this run started: stopped however the run ends (a failed run must not leave
// a worker polling a deleted database).
const started = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of started) if (child.exitCode === null) child.kill("SIGKILL");
});

function startWorkerProcess(extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(root, "scripts/worker.mjs")], { cwd: root, env: { ...process.env, ...extra }, stdio: ["ignore", "ignore", "inherit"] });
  started.add(child);
  return child;
}

async function stopWorker(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.on("exit", r));
  child.kill("SIGTERM");
  await exited;
}

async function main() {
  const { migrate } = await import("../scripts/migrate.mjs");
  await migrate(process.env.DATABASE_URL, { quiet: true });
  const db = await import("../lib/db/index.ts");
  const { issueApiToken } = await import("../lib/cli/admin.ts");
  const user = await db.createUser({ email: "bench@example.test", name: "bench" });
  const organization = await db.createOrganization({ slug: "bench", name: "Bench", ownerUserId: user.id });
  const { token } = await issueApiToken({ organizationId: organization.id, role: "admin", name: "bench" });
  const api = await serveApi();
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = (await response.json()) as ApiData;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(data)}`);
    return data;
  };

  // 1. The large repository.
  const large = targetLines > 0 ? await largeRepository(call) : {};
  // 2. Scans per minute of a small repository.
  const small = join(work, "small");
  cpSync(join(root, "scripts/demo-repository"), small, { recursive: true });
  const rates: Record<number, number> = {};
  for (const count of [1, 2]) {
    const ids: string[] = [];
    for (let i = 0; i < smallScans; i++) {
      const r = await call("POST", "/repositories", { provider: "local", path: small, name: `small-${count}-${i}` });
      ids.push((await call("POST", `/repositories/${r.id}/scans`)).id);
    }
    const t0 = performance.now();
    const workers = Array.from({ length: count }, () => startWorkerProcess({ POOLGUARD_ANALYZER_JOBS: "1" }));
    for (;;) {
      const done = await Promise.all(ids.map((id) => db.getScan(id)));
      if (done.every((s) => s?.status === "succeeded")) break;
      if (done.some((s) => s?.status === "failed")) throw new Error("a small scan failed");
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - t0) / 1000;
    for (const w of workers) await stopWorker(w);
    rates[count] = (smallScans / seconds) * 60;
    console.log(`[bench] ${smallScans} small scans with ${count} worker(s): ${seconds.toFixed(1)} s, ${rates[count].toFixed(0)} scans/minute (includes worker start-up)`);
  }
  api.close();
  await db.disconnectDatabase();
  console.log(JSON.stringify({ cores: cpus().length, ...large, smallScansPerMinute: rates }));
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}

type ApiData = { id: string; status: string; error: string | null; findingsCount: number };
type Call = (method: string, path: string, body?: unknown) => Promise<ApiData>;

async function largeRepository(call: Call) {
  const functionsPerFile = 40;
  const files = Math.max(2, Math.round(targetLines / (functionsPerFile * 7.95)));
  const big = join(work, "big");
  const generated = writeGeneratedRepo(big, { files, functionsPerFile });
  console.log(`[bench] generated ${generated.files} files, ${generated.lines} lines, ${generated.leaks} planted leaks`);
  const cli = await runCli(big);
  console.log(`[bench] analyzer alone (CLI): ${cli.seconds.toFixed(1)} s, peak ${cli.peakMb.toFixed(0)} MB, ${cli.findings} findings`);

  const worker = startWorkerProcess();
  const memory = sampler(worker);
  // Let the worker start (a runner waiting for work is the steady state being measured).
  await new Promise((r) => setTimeout(r, 3000));
  const started = performance.now();
  const repository = await call("POST", "/repositories", { provider: "local", path: big, name: "big" });
  const queued = await call("POST", `/repositories/${repository.id}/scans`);
  let scan = await call("GET", `/scans/${queued.id}`);
  while (scan.status === "queued" || scan.status === "running") {
    await new Promise((r) => setTimeout(r, 250));
    scan = await call("GET", `/scans/${queued.id}`);
  }
  const pipelineSeconds = (performance.now() - started) / 1000;
  memory.stop();
  await stopWorker(worker);
  if (scan.status !== "succeeded") throw new Error(`the scan ended ${scan.status}: ${scan.error}`);
  console.log(
    `[bench] through the API: ${pipelineSeconds.toFixed(1)} s (${(pipelineSeconds / cli.seconds).toFixed(2)}x the analyzer), worker peak ${memory.peakMb().toFixed(0)} MB, ${scan.findingsCount} findings`,
  );

  return {
    lines: generated.lines,
    files: generated.files,
    analyzerSeconds: Number(cli.seconds.toFixed(1)),
    analyzerPeakMb: Math.round(cli.peakMb),
    pipelineSeconds: Number(pipelineSeconds.toFixed(1)),
    ratio: Number((pipelineSeconds / cli.seconds).toFixed(2)),
    workerPeakMb: Math.round(memory.peakMb()),
  };
}

await main();
