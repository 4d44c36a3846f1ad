// npx tsx bench/false-alarms.ts [--repo NAME]... [--analyzer DIR] [--mirrors DIR] [--judged DIR]
//                               [--fix-check] [--json] [--list NAME]
//
// False alarms per 100,000 lines and the share of findings that carry a fix, on large real
// repositories at pinned commits (the list below). Each tree is taken from a local bare git
// mirror (<mirrors>/<owner>+<name>, as for bench/recall.ts), only the files the analyzer
// reads (sources of both languages plus the project files it indexes) are written under
// /tmp/poolguard-fa/, and the Poolguard CLI of --analyzer (default: this checkout) scans the
// whole tree with the default configuration. Lines = non-blank lines of the source files the
// scanner discovers (.py, .ts .tsx .mts .cts .js .jsx .mjs .cjs; vendored, generated,
// minified and gitignored files excluded, as in a scan).
//
// Judgements are references only, in bench/judged/<name>.json:
//   { "repo": "owner/name", "commit": "<sha>", "strata": ["optional/path/prefix/"], "findings": [
//       { "path": "...", "line": 12, "rule": "...", "verdict": "true"|"false"|"debatable", "reason": "..." } ] }
// They are joined to the scan by path, line and rule. The estimated false alarms of a repository
// are, per stratum (one rule in production code, or that rule in test code), findings × (false /
// judged) of the stratum's judged findings (exact when all are judged); a stratum with findings
// but no judgement takes the repository's overall judged ratio. `strata` path prefixes split a
// cluster judged in full (e.g. fixture folders) from the randomly sampled rest. Debatable verdicts count as
// neither true nor false alarms.
//
// --fix-check applies the safe fixes with `scan --fix` on a copy of each tree, re-scans it, and
// checks that every fixed file still parses (Python: python3's ast; TS/JS: the TypeScript parser),
// that each fixed finding is gone and that no new finding appeared in a fixed file.
// --list NAME prints one repository's findings (path:line rule fix message) for judging.
// --corpus reports the fix share of the recall corpus's detected bugs instead (bench/corpus/cases.json:
// each bug case's buggy version, the finding of the case's rule in its line range); it reuses the
// trees bench/recall.ts extracted under /tmp/poolguard-corpus (run `npm run bench:recall` first) and,
// with --fix-check, applies the safe fixes of those findings to a copy and checks them the same way.
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { writeBlobs } from "./lib/git-blobs.ts";
import ts from "typescript";
import { type CorpusCase, inRange } from "./corpus/score.ts";

type RepoSpec = { name: string; repo: string; commit: string; scope?: string[]; language: "python" | "typescript" };

// Large applications and libraries, both languages. Commits are the mirrors' snapshots.
export const repositories: RepoSpec[] = [
  { name: "polar-server", repo: "polarsource/polar", commit: "c6c3645e639ee8eeaa05aa0835cf8e39e330382f", scope: ["server"], language: "python" },
  { name: "prefect", repo: "PrefectHQ/prefect", commit: "ce79dd3d6cfa2b7337265498210dbc4d25bcdc98", language: "python" },
  { name: "dispatch", repo: "Netflix/dispatch", commit: "dd2837e82a0bf5565b1b4b4b91ea30b7262d4061", language: "python" },
  { name: "redash", repo: "getredash/redash", commit: "ca79fe988d81cdac9675b412f3dfcab107bc1fbc", language: "python" },
  { name: "mealie", repo: "mealie-recipes/mealie", commit: "b5643a9399465d8b4ea339e7a6639df2d697741b", language: "python" },
  { name: "keep", repo: "keephq/keep", commit: "af93f550b6498089d5e93b6dd426fc2a49498464", language: "python" },
  // The repository's last commit archives the tree; the one before it is the server.
  { name: "letta", repo: "letta-ai/letta", commit: "56ba9c25552605eec89de8ed3dc6394b625c1993", language: "python" },
  { name: "ctfd", repo: "CTFd/CTFd", commit: "91ced62d44d3ec3142a0948ee96ed19947cfc979", language: "python" },
  { name: "typeorm", repo: "typeorm/typeorm", commit: "281bfba42a5813b106bcf5ba79bc7f7251bd1e73", language: "typescript" },
  { name: "novu", repo: "novuhq/novu", commit: "74a2e9a6a295cd5a17aa9806914b4574fecce737", language: "typescript" },
  { name: "outline", repo: "outline/outline", commit: "d77dcdf853868c5d5fe125c895c9b71f0eff5c68", language: "typescript" },
  { name: "payload", repo: "payloadcms/payload", commit: "db7543c2121f0b672e33436447122b5e09ea4f2b", language: "typescript" },
  { name: "vendure", repo: "vendure-ecommerce/vendure", commit: "1633446f4ee203e5e3fbca628bee952893bffa5b", language: "typescript" },
  { name: "hoppscotch", repo: "hoppscotch/hoppscotch", commit: "afc2cf181c16e56647b099e5d18cfe55710c6cdd", language: "typescript" },
  { name: "umami", repo: "umami-software/umami", commit: "c0ea3aefbee7a3429ee2f824b06dc4a9dbe0b7e1", language: "typescript" },
  { name: "documenso", repo: "documenso/documenso", commit: "75330166cc00b29c14399bc2e391e4b4d8080c00", language: "typescript" },
];

const projectRoot = join(import.meta.dirname, "..");
const cacheRoot = "/tmp/poolguard-fa";
const sourceExtensions = [".py", ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];
// What the analyzer reads besides sources: project files it indexes and the import policies
// it turns into bans. poolguard.yml is never extracted: this measures the default configuration.
const projectFiles = ["tsconfig.json", "jsconfig.json", "package.json", ".gitignore", "pyproject.toml", "setup.cfg", ".importlinter", ".eslintrc", ".eslintrc.json", ".eslintrc.yml", ".eslintrc.yaml"];

type Args = { only: string[]; analyzer: string; mirrors: string; judged: string; fixCheck: boolean; json: boolean; list?: string; corpus: boolean };

function parseArgs(argv: string[]): Args {
  const args: Args = { only: [], analyzer: projectRoot, mirrors: "/work/.mirror", judged: join(projectRoot, "bench", "judged"), fixCheck: false, json: false, corpus: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--repo") args.only.push(value());
    else if (a === "--analyzer") args.analyzer = resolve(value());
    else if (a === "--mirrors") args.mirrors = value();
    else if (a === "--judged") args.judged = resolve(value());
    else if (a === "--fix-check") args.fixCheck = true;
    else if (a === "--json") args.json = true;
    else if (a === "--list") args.list = value();
    else if (a === "--corpus") args.corpus = true;
    else usage(`unknown argument ${a}`);
  }
  return args;
}

function usage(message: string): never {
  console.error(`${message}\nusage: tsx bench/false-alarms.ts [--repo NAME]... [--analyzer DIR] [--mirrors DIR] [--judged DIR] [--fix-check] [--json] [--list NAME] [--corpus]`);
  process.exit(2);
}

function gitDir(mirrors: string, repo: string): string {
  const base = join(mirrors, repo.replace("/", "+"));
  for (const candidate of [join(base, "repo"), join(base, "repo", ".git"), base, `${base}.git`]) {
    if (existsSync(join(candidate, "HEAD")) && existsSync(join(candidate, "objects"))) return candidate;
  }
  throw new Error(`no mirror of ${repo} under ${mirrors}`);
}

function wanted(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return sourceExtensions.some((ext) => name.endsWith(ext)) || projectFiles.includes(name);
}

/** Writes the wanted files of the tree once (blobs a snapshot lacks are skipped); returns the directory. */
function extract(spec: RepoSpec, mirrors: string): string {
  const target = join(cacheRoot, `${spec.name}-${spec.commit.slice(0, 12)}`, "tree");
  if (existsSync(join(target, ".poolguard-fa-complete"))) return target;
  const dir = gitDir(mirrors, spec.repo);
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const listing = execFileSync("git", ["--git-dir", dir, "ls-tree", "-r", "-z", spec.commit, "--", ...(spec.scope ?? [])], { encoding: "utf8", maxBuffer: 1 << 28 });
  const entries: { object: string; path: string }[] = [];
  for (const line of listing.split("\0")) {
    if (!line) continue;
    const tab = line.indexOf("\t");
    const [mode, type, object] = line.slice(0, tab).split(" ");
    const path = line.slice(tab + 1);
    if (type !== "blob" || mode === "120000" || !wanted(path)) continue;
    entries.push({ object, path });
  }
  writeBlobs(dir, entries, partial, spec.repo);
  writeFileSync(join(partial, ".poolguard-fa-complete"), `${spec.repo} ${spec.commit} ${entries.length} files\n`);
  rmSync(target, { recursive: true, force: true });
  renameSync(partial, target);
  return target;
}

type Finding = {
  rule: string;
  severity: string;
  message: string;
  path: string;
  line: number;
  fingerprint: string;
  suppressed: boolean;
  tags?: string[];
  fix: null | { safety: "safe" | "unsafe"; description: string; edits: { path: string }[] };
};
type ScanDoc = { files_scanned: number; duration_ms: number; findings: Finding[]; errors: { path: string; message: string }[]; fixes?: { files: { path: string; fixed: { rule: string; line: number }[] }[]; dropped: { path: string }[] } };

function runCli(analyzer: string, args: string[]): ScanDoc {
  const run = spawnSync(process.execPath, [join(analyzer, "bin", "poolguard.mjs"), ...args], { cwd: analyzer, encoding: "utf8", maxBuffer: 1 << 30 });
  if (run.status !== 0 && run.status !== 1) throw new Error(`poolguard ${args.join(" ")} exited ${run.status}: ${(run.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`);
  return JSON.parse(run.stdout) as ScanDoc;
}

function analyzerRevision(analyzer: string): string {
  const head = spawnSync("git", ["-C", analyzer, "rev-parse", "--short=12", "HEAD"], { encoding: "utf8" }).stdout.trim() || "unknown";
  const dirty = spawnSync("git", ["-C", analyzer, "diff", "--quiet", "HEAD", "--", "lib"]).status !== 0;
  return dirty ? `${head}+changes` : head;
}

/** The scan of a tree, cached per analyzer revision (a revision with local changes is never cached). */
function scanTree(tree: string, analyzer: string, revision: string): ScanDoc {
  const cache = join(dirname(tree), `scan-${revision}.json`);
  if (!revision.endsWith("+changes") && existsSync(cache)) return JSON.parse(readFileSync(cache, "utf8")) as ScanDoc;
  const doc = runCli(analyzer, ["scan", tree, "--format", "json", "--fail-on", "never"]);
  writeFileSync(cache, JSON.stringify(doc));
  return doc;
}

/** Non-blank lines of the source files a scan discovers (the analyzer's own discovery, so the same files). */
async function countLines(tree: string, analyzer: string): Promise<{ files: number; lines: number }> {
  const { discoverFiles } = (await import(join(analyzer, "lib", "analyzer", "engine", "discover.ts"))) as typeof import("../lib/analyzer/engine/discover.ts");
  const { files } = discoverFiles(tree, { extensions: new Set(sourceExtensions), fileNames: new Set(), ignoreGlobs: [], maxFileBytes: 1024 * 1024 });
  let lines = 0;
  for (const file of files) {
    const text = readFileSync(file.absolutePath, "utf8");
    for (const line of text.split("\n")) if (line.trim() !== "") lines++;
  }
  return { files: files.length, lines };
}

type Verdict = "true" | "false" | "debatable";
type Judgement = { path: string; line: number; rule: string; verdict: Verdict; reason: string };

/** `strata`: path prefixes whose findings form strata of their own (a cluster judged in full). */
type Judged = { findings: Judgement[]; strata: string[] };

function loadJudgements(dir: string, spec: RepoSpec): Judged {
  const file = join(dir, `${spec.name}.json`);
  if (!existsSync(file)) return { findings: [], strata: [] };
  const doc = JSON.parse(readFileSync(file, "utf8")) as { repo: string; commit: string; strata?: string[]; findings: Judgement[] };
  if (doc.repo !== spec.repo || doc.commit !== spec.commit) throw new Error(`${file} is for ${doc.repo}@${doc.commit}, not ${spec.repo}@${spec.commit}`);
  return { findings: doc.findings, strata: doc.strata ?? [] };
}

type FixCheck = { fixedFindings: number; fixedFiles: number; brokenFiles: string[]; stillReported: string[]; newFindings: string[]; dropped: number };

function parsesAfterFix(path: string): boolean {
  if (path.endsWith(".py")) {
    return spawnSync("python3", ["-c", "import ast,sys; ast.parse(open(sys.argv[1], 'rb').read())", path]).status === 0;
  }
  const text = readFileSync(path, "utf8");
  const kind = /\.[cm]?tsx?$/.test(path) ? (path.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS) : path.endsWith("x") ? ts.ScriptKind.JSX : ts.ScriptKind.JS;
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
  return ((source as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics ?? []).length === 0;
}

/** Applies the safe fixes to a copy of the tree, re-scans it and checks the fixed files. */
function checkFixes(tree: string, before: ScanDoc, analyzer: string): FixCheck {
  const copy = join(dirname(tree), "fixed");
  rmSync(copy, { recursive: true, force: true });
  cpSync(tree, copy, { recursive: true });
  const fixedRun = runCli(analyzer, ["scan", copy, "--fix", "--format", "json", "--fail-on", "never"]);
  const after = runCli(analyzer, ["scan", copy, "--format", "json", "--fail-on", "never"]);
  const fixedFiles = fixedRun.fixes?.files ?? [];
  const result: FixCheck = { fixedFindings: 0, fixedFiles: fixedFiles.length, brokenFiles: [], stillReported: [], newFindings: [], dropped: fixedRun.fixes?.dropped.length ?? 0 };
  const afterPrints = new Set(after.findings.map((f) => f.fingerprint));
  for (const file of fixedFiles) {
    result.fixedFindings += file.fixed.length;
    if (!parsesAfterFix(join(copy, file.path))) result.brokenFiles.push(file.path);
    const beforeHere = before.findings.filter((f) => f.path === file.path);
    const beforePrints = new Set(beforeHere.map((f) => f.fingerprint));
    // A fixed finding is gone when neither its fingerprint nor a finding of its rule on its line is reported.
    for (const fixed of file.fixed) {
      const original = beforeHere.find((f) => f.rule === fixed.rule && f.line === fixed.line && f.fix?.safety === "safe");
      if (original && afterPrints.has(original.fingerprint)) result.stillReported.push(`${file.path}:${fixed.line} ${fixed.rule}`);
    }
    for (const f of after.findings) {
      if (f.path === file.path && !beforePrints.has(f.fingerprint)) result.newFindings.push(`${f.path}:${f.line} ${f.rule}`);
    }
  }
  rmSync(copy, { recursive: true, force: true });
  return result;
}

type RuleRow = { findings: number; production: number; withFix: number; safeFix: number; judged: number; tp: number; fp: number; debatable: number; tpWithFix: number; tpSafeFix: number };
type RepoResult = {
  name: string;
  repo: string;
  commit: string;
  files: number;
  lines: number;
  filesScanned: number;
  errors: number;
  findings: number;
  production: number;
  rules: Record<string, RuleRow>;
  judged: number;
  unmatchedJudgements: Judgement[];
  tp: number;
  fp: number;
  debatable: number;
  estimatedFalse: number;
  /** The same for findings in production code (no `test` tag). */
  productionJudged: { judged: number; tp: number; fp: number; debatable: number; estimatedFalse: number };
  fixCheck?: FixCheck;
};

function emptyRow(): RuleRow {
  return { findings: 0, production: 0, withFix: 0, safeFix: 0, judged: 0, tp: 0, fp: 0, debatable: 0, tpWithFix: 0, tpSafeFix: 0 };
}

/** Findings are estimated per stratum: one rule in production code, or in test code. */
function stratumOf(f: Finding, prefixes: string[]): string {
  const prefix = prefixes.find((p) => f.path.startsWith(p));
  return `${f.rule}${f.tags?.includes("test") ? " (test)" : ""}${prefix ? ` in ${prefix}` : ""}`;
}

function evaluate(spec: RepoSpec, doc: ScanDoc, judged: Judged, lines: { files: number; lines: number }): RepoResult {
  const judgements = judged.findings;
  const active = doc.findings.filter((f) => !f.suppressed);
  const rules: Record<string, RuleRow> = {};
  const strata: Record<string, { findings: number; judged: number; fp: number; test: boolean }> = {};
  const prod = { judged: 0, tp: 0, fp: 0, debatable: 0, estimatedFalse: 0 };
  const used = new Set<Judgement>();
  let tp = 0;
  let fp = 0;
  let debatable = 0;
  for (const f of active) {
    rules[f.rule] ??= emptyRow();
    const row = rules[f.rule];
    const key = stratumOf(f, judged.strata);
    strata[key] ??= { findings: 0, judged: 0, fp: 0, test: f.tags?.includes("test") ?? false };
    const stratum = strata[key];
    row.findings++;
    stratum.findings++;
    if (!f.tags?.includes("test")) row.production++;
    if (f.fix) row.withFix++;
    if (f.fix?.safety === "safe") row.safeFix++;
    const j = judgements.find((x) => !used.has(x) && x.path === f.path && x.line === f.line && x.rule === f.rule);
    if (!j) continue;
    used.add(j);
    row.judged++;
    stratum.judged++;
    if (!stratum.test) {
      prod.judged++;
      if (j.verdict === "true") prod.tp++;
      else if (j.verdict === "false") prod.fp++;
      else prod.debatable++;
    }
    if (j.verdict === "true") {
      row.tp++;
      tp++;
      if (f.fix) row.tpWithFix++;
      if (f.fix?.safety === "safe") row.tpSafeFix++;
    } else if (j.verdict === "false") {
      row.fp++;
      stratum.fp++;
      fp++;
    } else {
      row.debatable++;
      debatable++;
    }
  }
  const judgedCount = tp + fp + debatable;
  // Per stratum: findings × (false / judged); a stratum with no judgement takes the repository's ratio.
  let estimatedFalse = 0;
  for (const stratum of Object.values(strata)) {
    let estimate = 0;
    if (stratum.judged > 0) estimate = (stratum.findings * stratum.fp) / stratum.judged;
    else if (judgedCount > 0) estimate = (stratum.findings * fp) / judgedCount;
    estimatedFalse += estimate;
    if (!stratum.test) prod.estimatedFalse += estimate;
  }
  return {
    name: spec.name,
    repo: spec.repo,
    commit: spec.commit,
    files: lines.files,
    lines: lines.lines,
    filesScanned: doc.files_scanned,
    errors: doc.errors.length,
    findings: active.length,
    production: active.filter((f) => !f.tags?.includes("test")).length,
    rules,
    judged: judgedCount,
    unmatchedJudgements: judgements.filter((j) => !used.has(j)),
    tp,
    fp,
    debatable,
    estimatedFalse,
    productionJudged: prod,
  };
}

const per100k = (n: number, lines: number) => (lines === 0 ? 0 : (n * 100_000) / lines);
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function printReport(results: RepoResult[], revision: string) {
  console.log(`engine ${revision}; lines = non-blank lines of discovered .py/.ts/.tsx/.mts/.cts/.js/.jsx/.mjs/.cjs files`);
  console.log("| repository | commit | language files | lines | findings (production) | per 100k lines | judged | true | false | debatable | est. false alarms | FA per 100k lines |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  const total = { lines: 0, findings: 0, production: 0, judged: 0, tp: 0, fp: 0, debatable: 0, est: 0, files: 0 };
  for (const r of results) {
    console.log(
      `| ${r.repo} | ${r.commit.slice(0, 8)} | ${r.files} | ${r.lines} | ${r.findings} (${r.production}) | ${fmt(per100k(r.findings, r.lines))} | ${r.judged} | ${r.tp} | ${r.fp} | ${r.debatable} | ${fmt(r.estimatedFalse)} | ${fmt(per100k(r.estimatedFalse, r.lines))} |`,
    );
    total.lines += r.lines;
    total.files += r.files;
    total.findings += r.findings;
    total.production += r.production;
    total.judged += r.judged;
    total.tp += r.tp;
    total.fp += r.fp;
    total.debatable += r.debatable;
    total.est += r.estimatedFalse;
    if (r.filesScanned < r.files) console.log(`  note: ${r.repo}: ${r.files - r.filesScanned} discovered files were not analysed (unreadable or skipped)`);
    if (r.errors > 0) console.log(`  note: ${r.repo}: ${r.errors} files did not parse`);
    for (const j of r.unmatchedJudgements) console.log(`  note: ${r.repo}: judgement ${j.path}:${j.line} ${j.rule} matches no finding of this scan`);
  }
  console.log(
    `| **total (${results.length})** | | ${total.files} | ${total.lines} | ${total.findings} (${total.production}) | ${fmt(per100k(total.findings, total.lines))} | ${total.judged} | ${total.tp} | ${total.fp} | ${total.debatable} | ${fmt(total.est)} | ${fmt(per100k(total.est, total.lines))} |`,
  );

  const p = { findings: 0, judged: 0, tp: 0, fp: 0, debatable: 0, est: 0 };
  for (const r of results) {
    p.findings += r.production;
    p.judged += r.productionJudged.judged;
    p.tp += r.productionJudged.tp;
    p.fp += r.productionJudged.fp;
    p.debatable += r.productionJudged.debatable;
    p.est += r.productionJudged.estimatedFalse;
  }
  console.log(
    `\nProduction code only (findings without the test tag): ${p.findings} findings (${fmt(per100k(p.findings, total.lines))} per 100k lines), ${p.judged} judged: ${p.tp} true, ${p.fp} false, ${p.debatable} debatable; est. ${fmt(p.est)} false alarms = ${per100k(p.est, total.lines).toFixed(2)} per 100k lines`,
  );
  console.log("\nFix share per rule (all findings, and the judged true findings):");
  console.log("| rule | findings | with a fix | safe fix | judged true | true with a fix | true with a safe fix |");
  console.log("|---|---|---|---|---|---|---|");
  const byRule: Record<string, RuleRow> = {};
  for (const r of results) {
    for (const [rule, row] of Object.entries(r.rules)) {
      byRule[rule] ??= emptyRow();
      const sum = byRule[rule];
      for (const key of Object.keys(row) as (keyof RuleRow)[]) sum[key] += row[key];
    }
  }
  const all = emptyRow();
  for (const [rule, row] of Object.entries(byRule).sort()) {
    console.log(`| ${rule} | ${row.findings} | ${row.withFix} | ${row.safeFix} | ${row.tp} | ${row.tpWithFix} | ${row.tpSafeFix} |`);
    for (const key of Object.keys(row) as (keyof RuleRow)[]) all[key] += row[key];
  }
  const pct = (a: number, b: number) => (b === 0 ? "-" : `${Math.round((100 * a) / b)}%`);
  console.log(`| **all** | ${all.findings} | ${all.withFix} (${pct(all.withFix, all.findings)}) | ${all.safeFix} (${pct(all.safeFix, all.findings)}) | ${all.tp} | ${all.tpWithFix} (${pct(all.tpWithFix, all.tp)}) | ${all.tpSafeFix} (${pct(all.tpSafeFix, all.tp)}) |`);

  const checked = results.filter((r) => r.fixCheck);
  if (checked.length > 0) {
    console.log("\nSafe fixes applied with `scan --fix` on a copy, then re-scanned:");
    console.log("| repository | fixed findings | fixed files | files that no longer parse | fixed findings still reported | new findings in fixed files | fixes dropped by the engine |");
    console.log("|---|---|---|---|---|---|---|");
    for (const r of checked) {
      const c = r.fixCheck as FixCheck;
      console.log(`| ${r.repo} | ${c.fixedFindings} | ${c.fixedFiles} | ${c.brokenFiles.length} | ${c.stillReported.length} | ${c.newFindings.length} | ${c.dropped} |`);
      for (const path of c.brokenFiles) console.log(`  broken: ${path}`);
      for (const where of c.stillReported) console.log(`  still reported after its fix: ${where}`);
      for (const where of c.newFindings) console.log(`  new after the fixes: ${where}`);
    }
  }
}

type CorpusRow = { id: string; rule: string; language: string; detected: boolean; fix: "safe" | "unsafe" | "none"; check?: "ok" | "broken" | "still reported" | "not applied"; note?: string };

/** The tree bench/recall.ts extracted for a case version (same naming), or null when it is not there. */
function corpusTree(c: CorpusCase, sha: string): string | null {
  const scopeKey = c.scope && c.scope.length > 0 ? `-${createHash("sha1").update(c.scope.join("\0")).digest("hex").slice(0, 8)}` : "";
  const tree = join("/tmp/poolguard-corpus", c.repo.replace("/", "+"), `${sha}-${c.language}${scopeKey}`);
  return existsSync(join(tree, ".poolguard-corpus-complete")) ? tree : null;
}

function corpusFixShare(args: Args): CorpusRow[] {
  const cases = (JSON.parse(readFileSync(join(import.meta.dirname, "corpus", "cases.json"), "utf8")) as { cases?: CorpusCase[] } | CorpusCase[]);
  const list = (Array.isArray(cases) ? cases : (cases.cases ?? [])).filter((c) => c.kind === "bug" && c.buggy_commit);
  // One scan per buggy tree, reporting every case file of that tree.
  const byTree = new Map<string, CorpusCase[]>();
  const rows: CorpusRow[] = [];
  for (const c of list) {
    const tree = corpusTree(c, c.buggy_commit as string);
    if (!tree) {
      rows.push({ id: c.id, rule: c.rule, language: c.language, detected: false, fix: "none", note: "tree not extracted (run bench:recall first)" });
      continue;
    }
    byTree.set(tree, [...(byTree.get(tree) ?? []), c]);
  }
  let done = 0;
  for (const [tree, group] of byTree) {
    done++;
    process.stderr.write(`[corpus] ${done}/${byTree.size} ${group[0].repo} (${group.length} case${group.length === 1 ? "" : "s"})\n`);
    const only = [...new Set(group.map((c) => c.path))].flatMap((p) => ["--only", join(tree, p)]);
    const doc = runCli(args.analyzer, ["scan", tree, ...only, "--format", "json", "--fail-on", "never"]);
    const hits = new Map<CorpusCase, Finding[]>();
    for (const c of group) {
      const found = doc.findings.filter((f) => !f.suppressed && f.path === c.path && f.rule === c.rule && inRange(f.line, c.lines));
      hits.set(c, found);
      const best = found.find((f) => f.fix?.safety === "safe") ?? found.find((f) => f.fix) ?? found[0];
      rows.push({ id: c.id, rule: c.rule, language: c.language, detected: found.length > 0, fix: best?.fix ? best.fix.safety : "none" });
    }
    if (!args.fixCheck || !group.some((c) => hits.get(c)?.some((f) => f.fix?.safety === "safe"))) continue;
    const copy = join(cacheRoot, "corpus-fixed");
    rmSync(copy, { recursive: true, force: true });
    cpSync(tree, copy, { recursive: true });
    const copyOnly = [...new Set(group.map((c) => c.path))].flatMap((p) => ["--only", join(copy, p)]);
    const fixedRun = runCli(args.analyzer, ["scan", copy, ...copyOnly, "--fix", "--format", "json", "--fail-on", "never"]);
    const after = runCli(args.analyzer, ["scan", copy, ...copyOnly, "--format", "json", "--fail-on", "never"]);
    const afterPrints = new Set(after.findings.map((f) => f.fingerprint));
    for (const c of group) {
      const row = rows.find((r) => r.id === c.id);
      const safe = hits.get(c)?.find((f) => f.fix?.safety === "safe");
      if (!row || !safe) continue;
      const fixedFile = fixedRun.fixes?.files.find((f) => f.path === c.path);
      if (!fixedFile?.fixed.some((x) => x.rule === c.rule && x.line === safe.line)) row.check = "not applied";
      else if (!parsesAfterFix(join(copy, c.path))) row.check = "broken";
      else if (afterPrints.has(safe.fingerprint)) row.check = "still reported";
      else row.check = "ok";
    }
    rmSync(copy, { recursive: true, force: true });
  }
  return rows;
}

function printCorpus(rows: CorpusRow[], revision: string) {
  console.log(`engine ${revision}; recall corpus bug cases, buggy versions`);
  console.log("| language | rule | bugs | detected | with a fix | safe fix | safe fix checked ok |");
  console.log("|---|---|---|---|---|---|---|");
  const groups = new Map<string, CorpusRow[]>();
  for (const r of rows) groups.set(`${r.language}\t${r.rule}`, [...(groups.get(`${r.language}\t${r.rule}`) ?? []), r]);
  const line = (label: string, rs: CorpusRow[]) => {
    const detected = rs.filter((r) => r.detected);
    const fixed = detected.filter((r) => r.fix !== "none");
    const safe = detected.filter((r) => r.fix === "safe");
    const ok = safe.filter((r) => r.check === "ok");
    const checked = safe.filter((r) => r.check !== undefined);
    console.log(`| ${label} | ${rs.length} | ${detected.length} | ${fixed.length} | ${safe.length} | ${checked.length === 0 ? "-" : `${ok.length}/${checked.length}`} |`);
  };
  for (const [key, rs] of [...groups].sort()) line(key.replace("\t", " | "), rs);
  line("**all** |", rows);
  for (const r of rows) if (r.note || (r.check && r.check !== "ok")) console.log(`  ${r.id}: ${r.note ?? r.check}`);
  for (const r of rows) if (r.detected && r.fix === "none") console.log(`  no fix: ${r.id} (${r.rule})`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.corpus) {
    const revision = analyzerRevision(args.analyzer);
    const rows = corpusFixShare(args);
    if (args.json) console.log(JSON.stringify({ engine: revision, rows }, null, 2));
    else printCorpus(rows, revision);
    return;
  }
  if (args.list) args.only = [args.list];
  const specs = args.only.length > 0 ? repositories.filter((r) => args.only.includes(r.name)) : repositories;
  if (args.only.length > 0 && specs.length !== args.only.length) usage(`unknown repository; known: ${repositories.map((r) => r.name).join(", ")}`);
  const revision = analyzerRevision(args.analyzer);
  const results: RepoResult[] = [];
  for (const spec of specs) {
    const started = Date.now();
    const tree = extract(spec, args.mirrors);
    const doc = scanTree(tree, args.analyzer, revision);
    if (args.list === spec.name) {
      for (const f of doc.findings.filter((x) => !x.suppressed)) {
        console.log(`${f.path}:${f.line}\t${f.rule}\t${f.tags?.includes("test") ? "test" : "prod"}\t${f.fix ? f.fix.safety : "nofix"}\t${f.message}`);
      }
      continue;
    }
    const lines = await countLines(tree, args.analyzer);
    const result = evaluate(spec, doc, loadJudgements(args.judged, spec), lines);
    if (args.fixCheck && Object.values(result.rules).some((row) => row.safeFix > 0)) result.fixCheck = checkFixes(tree, doc, args.analyzer);
    results.push(result);
    console.error(`${spec.name}: ${result.findings} findings in ${result.files} files, ${result.lines} lines (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  if (args.list) return;
  if (args.json) console.log(JSON.stringify({ engine: revision, results }, null, 2));
  else printReport(results, revision);
}

await main();
