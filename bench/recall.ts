// npm run bench:recall -- [--set dev|holdout|holdout2|holdout3|all] [--json] [--save FILE] [--mirrors DIR] [--analyzer DIR] [--case ID]... [--check]
//
// Recall and precision on the labelled corpus of real bug-fix commits (bench/corpus/cases.json,
// references only). For each case the buggy and the fixed file versions are taken from a local
// bare git mirror of the repository (<mirrors>/<owner>+<name>, see bench/corpus/README.md), the
// tree at each commit is extracted with every file of the case's language (cached under
// /tmp/poolguard-corpus/<repo>/<sha>-<language>), and the Poolguard CLI scans that whole tree
// with --only limited to the case's file, so cross-file facts (factories, wrappers) count.
// --analyzer DIR runs another Poolguard checkout's CLI (e.g. a snapshot of an older commit).
// --check only validates the case list against the mirrors (shas, paths, line ranges).
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeBlobs } from "./lib/git-blobs.ts";
import {
  type CaseOutcome,
  type CaseSet,
  type CorpusCase,
  caseSets,
  groupBy,
  type Language,
  type ScoredFinding,
  scoreCase,
  type Tally,
  tally,
  type VersionFindings,
  validateCases,
} from "./corpus/score.ts";

const projectRoot = join(import.meta.dirname, "..");
const cacheRoot = "/tmp/poolguard-corpus";

type Args = { set: CaseSet | "all"; json: boolean; save?: string; mirrors: string; analyzer: string; only: string[]; check: boolean };

function parseArgs(argv: string[]): Args {
  const args: Args = { set: "all", json: false, mirrors: "/work/.mirror", analyzer: projectRoot, only: [], check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--set") {
      const v = value();
      if (v !== "all" && !caseSets.includes(v as CaseSet)) usage(`--set takes ${caseSets.join(", ")} or all`);
      args.set = v as CaseSet | "all";
    } else if (a === "--json") args.json = true;
    else if (a === "--save") args.save = resolve(value());
    else if (a === "--mirrors") args.mirrors = value();
    else if (a === "--analyzer") args.analyzer = resolve(value());
    else if (a === "--case") args.only.push(value());
    else if (a === "--check") args.check = true;
    else usage(`unknown argument ${a}`);
  }
  return args;
}

function usage(message: string): never {
  console.error(`${message}\nusage: tsx bench/recall.ts [--set dev|holdout|holdout2|holdout3|all] [--json] [--save FILE] [--mirrors DIR] [--analyzer DIR] [--case ID]... [--check]`);
  process.exit(2);
}

/** The git dir of a repository's mirror: fetched snapshots (<dir>/repo) or `git clone --bare` output. */
function gitDir(mirrors: string, repo: string): string | null {
  const base = join(mirrors, repo.replace("/", "+"));
  for (const candidate of [join(base, "repo"), join(base, "repo", ".git"), base, `${base}.git`]) {
    if (existsSync(join(candidate, "HEAD")) && existsSync(join(candidate, "objects"))) return candidate;
  }
  return null;
}

function git(dir: string, args: string[]): string {
  return execFileSync("git", ["--git-dir", dir, ...args], { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "pipe"] });
}

function hasCommit(dir: string, sha: string): boolean {
  return spawnSync("git", ["--git-dir", dir, "cat-file", "-e", `${sha}^{commit}`]).status === 0;
}

/** Extracts the tree at `sha` (optionally only `scope` paths) once; returns its directory. */
/**
 * Only the files the analyzer reads for the case's language (plus .gitignore and project
 * configs), so that a mixed repository (a Python backend with a large JS frontend) is not
 * parsed in full. Cross-file facts within the language are kept: the whole tree of that
 * language (or of `scope`) is extracted.
 */
const languageFiles: Record<Language, string[]> = {
  python: ["*.py", "*.pyi", "pyproject.toml", "setup.cfg", ".importlinter", ".gitignore"],
  typescript: ["*.ts", "*.tsx", "*.mts", "*.cts", "*.js", "*.jsx", "*.mjs", "*.cjs", "tsconfig*.json", "jsconfig.json", "package.json", ".gitignore"],
};

function wantedFile(language: Language, path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return languageFiles[language].some((pattern) => {
    if (pattern.startsWith("*")) return name.endsWith(pattern.slice(1));
    if (pattern.includes("*")) {
      const [head, tail] = pattern.split("*");
      return name.startsWith(head) && name.endsWith(tail);
    }
    return name === pattern;
  });
}

type TreeEntry = { object: string; path: string };

function treeFiles(dir: string, sha: string, scope: string[] | undefined, language: Language): TreeEntry[] {
  const out = git(dir, ["ls-tree", "-r", "-z", sha, "--", ...(scope ?? [])]);
  const entries: TreeEntry[] = [];
  for (const line of out.split("\0")) {
    if (!line) continue;
    const tab = line.indexOf("\t");
    const [mode, type, object] = line.slice(0, tab).split(" ");
    const path = line.slice(tab + 1);
    // Regular files only: no submodules, no symlinks (mode 120000).
    if (type !== "blob" || mode === "120000" || !wantedFile(language, path)) continue;
    entries.push({ object, path });
  }
  return entries;
}

/**
 * Writes the case language's files of the tree at `sha` (optionally only under `scope`)
 * once and returns the directory. Blobs a snapshot lacks (files of 4 MiB and more) are
 * skipped. Streams through `git cat-file --batch` in chunks.
 */
function extract(dir: string, repo: string, sha: string, scope: string[] | undefined, language: Language): string {
  const scopeKey = scope && scope.length > 0 ? `-${createHash("sha1").update(scope.join("\0")).digest("hex").slice(0, 8)}` : "";
  const target = join(cacheRoot, repo.replace("/", "+"), `${sha}-${language}${scopeKey}`);
  if (existsSync(join(target, ".poolguard-corpus-complete"))) return target;
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const entries = treeFiles(dir, sha, scope, language);
  writeBlobs(dir, entries, partial, sha);
  // poolguard.yml is never extracted: the corpus measures the default configuration.
  writeFileSync(join(partial, ".poolguard-corpus-complete"), `${repo} ${sha} ${language} ${entries.length} files\n`);
  // Another run may have finished the same tree meanwhile: keep its copy, never replace a
  // tree that a concurrent scan may be reading.
  if (existsSync(join(target, ".poolguard-corpus-complete"))) {
    rmSync(partial, { recursive: true, force: true });
    return target;
  }
  rmSync(target, { recursive: true, force: true });
  try {
    renameSync(partial, target);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(target, ".poolguard-corpus-complete"))) throw error;
  }
  return target;
}

type ScanJob = { repo: string; sha: string; scope?: string[]; language: Language; paths: Set<string> };

function scanTree(analyzer: string, root: string, paths: string[]): Map<string, VersionFindings> {
  const cli = join(analyzer, "bin", "poolguard.mjs");
  const only = paths.flatMap((p) => ["--only", join(root, p)]);
  const run = spawnSync(process.execPath, [cli, "scan", root, ...only, "--format", "json", "--fail-on", "never"], {
    cwd: analyzer,
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const out = new Map<string, VersionFindings>();
  if (run.status !== 0) {
    const error = `scan exited ${run.status}: ${(run.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`;
    for (const p of paths) out.set(p, { findings: [], error });
    return out;
  }
  const doc = JSON.parse(run.stdout) as { findings: ScoredFinding[]; errors: { path: string; message: string }[] };
  for (const p of paths) {
    const fileError = doc.errors.find((e) => e.path === p);
    out.set(p, { findings: doc.findings.filter((f) => f.path === p), error: fileError ? `analyzer error: ${fileError.message}` : undefined });
  }
  return out;
}

/**
 * The analyzer's revision: `git rev-parse HEAD` (with "+changes" when its lib/ differs from
 * HEAD), or the commit recorded in `.poolguard-analyzer-commit` by an extracted snapshot.
 */
function analyzerRevision(analyzer: string): string {
  const recorded = join(analyzer, ".poolguard-analyzer-commit");
  if (existsSync(recorded)) return readFileSync(recorded, "utf8").trim();
  const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: analyzer, encoding: "utf8" }).stdout.trim();
  if (!head) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--", "lib", "bin"], { cwd: analyzer, encoding: "utf8" }).stdout.trim();
  return dirty ? `${head}+changes` : head;
}

function loadCases(): CorpusCase[] {
  const file = join(import.meta.dirname, "corpus", "cases.json");
  const doc = JSON.parse(readFileSync(file, "utf8")) as { cases: CorpusCase[] };
  return doc.cases;
}

function check(cases: CorpusCase[], mirrors: string): string[] {
  const problems: string[] = [];
  for (const c of cases) {
    const dir = gitDir(mirrors, c.repo);
    if (!dir) {
      problems.push(`${c.id}: no mirror of ${c.repo} under ${mirrors}`);
      continue;
    }
    const versions: [string, string, [number, number] | undefined][] =
      c.kind === "bug"
        ? [
            [c.buggy_commit as string, c.path, c.lines],
            [c.fix_commit, c.fixed_path ?? c.path, c.fixed_lines],
          ]
        : [[c.fix_commit, c.path, c.lines]];
    for (const [sha, path, range] of versions) {
      if (!hasCommit(dir, sha)) {
        problems.push(`${c.id}: commit ${sha} not in ${dir}`);
        continue;
      }
      let text: string;
      try {
        text = git(dir, ["show", `${sha}:${path}`]);
      } catch {
        problems.push(`${c.id}: ${path} does not exist at ${sha.slice(0, 10)}`);
        continue;
      }
      const lineCount = text.split("\n").length;
      if (range && (range[0] < 1 || range[1] > lineCount || range[0] > range[1])) problems.push(`${c.id}: range ${range.join("-")} outside ${path} (${lineCount} lines) at ${sha.slice(0, 10)}`);
    }
    if (c.kind === "bug" && c.buggy_commit && hasCommit(dir, c.fix_commit)) {
      const parents = git(dir, ["rev-list", "--parents", "-n", "1", c.fix_commit]).trim().split(" ").slice(1);
      if (!parents.includes(c.buggy_commit)) problems.push(`${c.id}: buggy_commit is not a parent of fix_commit`);
    }
  }
  return problems;
}

function pct(x: number | null): string {
  return x === null ? "-" : x.toFixed(2);
}

function row(name: string, t: Tally): string {
  return `| ${name} | ${t.detected}/${t.bugs} | ${pct(t.recall)} | ${t.falseAlarms}/${t.cleanVersions} | ${pct(t.precision)} |${t.errors ? ` ${t.errors} errors` : ""}`;
}

function table(title: string, groups: Map<string, CaseOutcome[]>, all: CaseOutcome[]): string {
  const lines = [`### ${title}`, "", "| group | detected/bugs | recall | false alarms/clean versions | precision |", "|---|---|---|---|---|"];
  for (const [name, items] of groups) lines.push(row(name, tally(items)));
  lines.push(row("**all**", tally(all)));
  return lines.join("\n");
}

function describe(findings: ScoredFinding[]): string {
  if (findings.length === 0) return "nothing";
  return findings.map((f) => `${f.rule}@${f.line}`).join(", ");
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const allCases = loadCases();
  const problems = validateCases(allCases);
  if (problems.length > 0) {
    console.error(problems.join("\n"));
    process.exit(2);
  }
  let cases = allCases.filter((c) => args.set === "all" || c.set === args.set);
  if (args.only.length > 0) cases = cases.filter((c) => args.only.includes(c.id));
  if (args.check) {
    const found = check(cases, args.mirrors);
    console.log(found.length === 0 ? `${cases.length} cases OK` : found.join("\n"));
    process.exit(found.length === 0 ? 0 : 1);
  }

  // One scan per (repository, commit, scope), reporting every case file at that version.
  const jobs = new Map<string, ScanJob>();
  const versionsOf = (c: CorpusCase): { key: string; path: string; role: "buggy" | "fixed" }[] => {
    const scopeKey = `${c.language}:${(c.scope ?? []).join(",")}`;
    const fixed = { key: `${c.repo}@${c.fix_commit}#${scopeKey}`, path: c.fixed_path ?? c.path, role: "fixed" as const };
    if (c.kind === "clean") return [fixed];
    return [{ key: `${c.repo}@${c.buggy_commit}#${scopeKey}`, path: c.path, role: "buggy" as const }, fixed];
  };
  for (const c of cases) {
    for (const v of versionsOf(c)) {
      const sha = v.role === "buggy" ? (c.buggy_commit as string) : c.fix_commit;
      const job = jobs.get(v.key) ?? { repo: c.repo, sha, scope: c.scope, language: c.language, paths: new Set<string>() };
      job.paths.add(v.path);
      jobs.set(v.key, job);
    }
  }
  const results = new Map<string, Map<string, VersionFindings>>();
  let done = 0;
  for (const [key, job] of jobs) {
    done += 1;
    const dir = gitDir(args.mirrors, job.repo);
    const paths = [...job.paths];
    if (!dir || !hasCommit(dir, job.sha)) {
      const error = dir ? `commit ${job.sha} not in mirror ${dir}` : `no mirror of ${job.repo} under ${args.mirrors}`;
      results.set(key, new Map(paths.map((p) => [p, { findings: [], error }])));
      continue;
    }
    process.stderr.write(`[recall] ${done}/${jobs.size} ${job.repo}@${job.sha.slice(0, 10)} (${paths.length} file${paths.length === 1 ? "" : "s"})\n`);
    try {
      const root = extract(dir, job.repo, job.sha, job.scope, job.language);
      results.set(key, scanTree(args.analyzer, root, paths));
    } catch (error) {
      results.set(key, new Map(paths.map((p) => [p, { findings: [], error: String(error) }])));
    }
  }

  const outcomes = cases.map((c) => {
    const versions = versionsOf(c);
    const get = (role: "buggy" | "fixed") => {
      const v = versions.find((x) => x.role === role);
      return v ? (results.get(v.key)?.get(v.path) ?? null) : null;
    };
    return scoreCase(c, get("buggy"), get("fixed"));
  });

  const analyzerCommit = analyzerRevision(args.analyzer);
  const summary = {
      analyzer_commit: analyzerCommit,
      date: new Date().toISOString(),
      set: args.set,
      overall: tally(outcomes),
      by_set: Object.fromEntries([...groupBy(outcomes, (o) => o.set)].map(([k, v]) => [k, tally(v)])),
      by_language: Object.fromEntries([...groupBy(outcomes, (o) => o.language)].map(([k, v]) => [k, tally(v)])),
      by_rule: Object.fromEntries([...groupBy(outcomes, (o) => o.rule)].map(([k, v]) => [k, tally(v)])),
      cases: outcomes,
    };
  if (args.save) writeFileSync(args.save, `${JSON.stringify(summary, null, 2)}\n`);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }

  const repos = new Set(cases.map((c) => c.repo));
  const out: string[] = [];
  out.push(`Recall corpus: ${cases.length} cases from ${repos.size} repositories (set: ${args.set}); analyzer ${analyzerCommit.slice(0, 10)}`);
  out.push("");
  for (const [setName, items] of groupBy(outcomes, (o) => o.set)) {
    out.push(table(`set ${setName}: by language`, groupBy(items, (o) => o.language), items));
    out.push("");
    out.push(table(`set ${setName}: by rule`, groupBy(items, (o) => o.rule), items));
    out.push("");
  }
  if (args.set === "all") {
    out.push(table("all sets: by language", groupBy(outcomes, (o) => o.language), outcomes));
    out.push("");
    out.push(table("all sets: by rule", groupBy(outcomes, (o) => o.rule), outcomes));
    out.push("");
  }
  const context = outcomes.reduce((n, o) => ({ buggy: n.buggy + o.buggyFileFindings.length, fixed: n.fixed + o.fixedFileFindings.length }), { buggy: 0, fixed: 0 });
  out.push(`Context: ${context.buggy} findings of any rule anywhere in the buggy files, ${context.fixed} in the fixed/clean files.`);
  out.push("");
  const misses = outcomes.filter((o) => o.kind === "bug" && !o.detected);
  out.push(`Misses (${misses.length}):`);
  for (const o of misses) {
    const c = cases.find((x) => x.id === o.id) as CorpusCase;
    out.push(`- ${o.id} [${o.set}] ${o.rule} ${o.repo} ${c.path}:${c.lines.join("-")}; found in file: ${describe(o.buggyFileFindings)}${o.error ? `; ERROR ${o.error}` : ""}`);
  }
  const alarms = outcomes.filter((o) => o.falseAlarm);
  out.push("");
  out.push(`False alarms (${alarms.length}):`);
  for (const o of alarms) {
    const c = cases.find((x) => x.id === o.id) as CorpusCase;
    out.push(`- ${o.id} [${o.set}] ${o.rule} ${o.repo} ${c.fixed_path ?? c.path}: ${describe(o.fixedHits)}`);
  }
  const errored = outcomes.filter((o) => o.error && !misses.includes(o));
  if (errored.length > 0) {
    out.push("");
    out.push(`Errors (${errored.length}):`);
    for (const o of errored) out.push(`- ${o.id}: ${o.error}`);
  }
  console.log(out.join("\n"));
}

await main();
