// Runs a fix the way a user does: a small program in a temp directory, `poolguard scan
// --format json` to see the finding and its fix, `poolguard scan --fix` to apply it, then
// both the original and the fixed program against a real database. The harness knows
// nothing of the analyzer's internals: only the CLI and its JSON contract.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const root = join(import.meta.dirname, "../../..");
const programs = import.meta.dirname;
// POOLGUARD_FIX_CLI runs the cases against another build or checkout of the CLI (for
// example a clean export of a commit while the working tree is being edited).
const cli = process.env.POOLGUARD_FIX_CLI || join(root, "bin/poolguard.mjs");

export type Position = { line: number; column: number };
export type Edit = { path: string; start: Position; end: Position; text: string };
export type Fix = { safety: "safe" | "unsafe"; description: string; edits: Edit[] };
export type Finding = { rule: string; path: string; line: number; message: string; suppressed: boolean; fix: Fix | null };
export type ScanJson = { findings: Finding[]; errors: { path: string; message: string }[] };

export type Workspace = { dir: string; file: string; original: string; remove: () => void };

/** Copy `program` (and the support files it imports) from tests/support/fix-programs into a fresh directory. */
export function workspace(program: string, support: string[] = []): Workspace {
  const dir = mkdtempSync(join(tmpdir(), "poolguard-fix-"));
  for (const name of [program, ...support]) {
    const target = join(dir, name.split("/").pop() ?? name);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(programs, name), target);
  }
  const file = join(dir, program.split("/").pop() ?? program);
  return { dir, file, original: readFileSync(file, "utf8"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function poolguard(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8", timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function scanJson(dir: string): ScanJson {
  const result = poolguard(["scan", dir, "--format", "json", "--fail-on", "never"], root);
  if (result.status !== 0) throw new Error(`poolguard scan exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as ScanJson;
}

/** `poolguard scan DIR --fix`: safe fixes only, written in place. */
export function applySafeFixes(dir: string): string {
  const result = poolguard(["scan", dir, "--fix", "--fail-on", "never"], root);
  if (result.status !== 0) throw new Error(`poolguard scan --fix exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/** Apply a fix's edits (1-based lines and columns) to a text, last edit first. */
export function applyEdits(text: string, edits: Edit[]): string {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const offset = (p: Position) => lineStarts[p.line - 1] + p.column - 1;
  const sorted = [...edits].sort((a, b) => offset(b.start) - offset(a.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offset(e.start)) + e.text + out.slice(offset(e.end));
  return out;
}

/** Original lines (1-based) that a fix's edits touch. */
export function touchedLines(edits: Edit[]): Set<number> {
  const lines = new Set<number>();
  for (const e of edits) for (let l = e.start.line; l <= e.end.line; l++) lines.add(l);
  return lines;
}

/** Original lines (1-based) that are not kept byte-identical in `fixed` (longest common subsequence of lines). */
export function changedLines(original: string, fixed: string): number[] {
  const a = original.split("\n");
  const b = fixed.split("\n");
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const changed: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length) {
    if (j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && lcs[i][j + 1] >= lcs[i + 1][j]) {
      j++;
    } else {
      changed.push(i + 1);
      i++;
    }
  }
  return changed;
}

/** Lines (1-based, inclusive) of a top-level Python `def`/`async def`, or a TypeScript/JavaScript function or `const name = (...) => {}`. */
export function functionLines(text: string, name: string): { start: number; end: number } {
  const lines = text.split("\n");
  const header = new RegExp(`^(async\\s+)?(def|function)\\s+${name}\\b|^(export\\s+)?(async\\s+)?function\\s+${name}\\b|^(export\\s+)?(const|let)\\s+${name}\\s*=`);
  const start = lines.findIndex((l) => header.test(l));
  if (start < 0) throw new Error(`no top-level function ${name}`);
  let end = start + 1;
  while (end < lines.length && (lines[end] === "" || /^\s/.test(lines[end]) || /^[})]/.test(lines[end]))) {
    end++;
    if (/^[})]/.test(lines[end - 1])) break;
  }
  while (end > start + 1 && lines[end - 1].trim() === "") end--;
  return { start: start + 1, end };
}

export type ProgramRun = Record<string, unknown>;

/** Run a program; its last stdout line is one JSON object of measurements. */
export function runProgram(command: string, args: string[], env: Record<string, string>, cwd: string): ProgramRun {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
  if (result.error) throw result.error;
  const lines = result.stdout.trim().split("\n");
  const last = lines[lines.length - 1] ?? "";
  if (result.status !== 0 || !last.startsWith("{")) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.status}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
  return JSON.parse(last) as ProgramRun;
}

export const python = "/usr/bin/python3";

export function pyCompile(file: string): void {
  execFileSync(python, ["-m", "py_compile", file], { stdio: "pipe" });
}

/**
 * Make the project's packages (pg, typeorm, tsx, typescript) resolvable from a workspace,
 * as an ES module package. The scanner skips node_modules, so only the program is scanned.
 */
export function nodeProject(dir: string): void {
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ type: "module", private: true })}\n`);
}

export const tsx = join(root, "node_modules/.bin/tsx");

/** Type-check a TypeScript program strictly, as a Node ES module. */
export function typeCheck(file: string, cwd: string): void {
  const tsc = join(root, "node_modules/.bin/tsc");
  const args = ["--noEmit", "--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", "--skipLibCheck", "--types", "node", file];
  const result = spawnSync(tsc, args, { cwd, encoding: "utf8", timeout: 120_000 });
  if (result.status !== 0) throw new Error(`tsc rejected ${file}:\n${result.stdout}${result.stderr}`);
}

/** Parse a JavaScript module without running it. */
export function syntaxCheck(file: string): void {
  execFileSync(process.execPath, ["--check", file], { stdio: "pipe" });
}

export type Style = { semicolons: boolean; quote: "'" | '"'; indent: string };

/** The layout conventions of a TypeScript/JavaScript file, as a fix must keep them. */
export function styleOf(text: string): Style {
  const code = text.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("//"));
  const semicolons = code.some((l) => /;\s*$/.test(l));
  const singles = (text.match(/'/g) ?? []).length;
  const doubles = (text.match(/"/g) ?? []).length;
  const widths = code.map((l) => /^( *)/.exec(l)?.[1].length ?? 0).filter((n) => n > 0);
  const unit = widths.length > 0 ? Math.min(...widths) : 2;
  return { semicolons, quote: singles > doubles ? "'" : '"', indent: " ".repeat(unit) };
}

/** Lines of `fixed` that break the original's style: a semicolon where it has none, tabs, or an indent off its unit. */
export function styleViolations(original: string, fixed: string): string[] {
  const style = styleOf(original);
  const originalLines = new Set(original.split("\n"));
  const problems: string[] = [];
  for (const line of fixed.split("\n")) {
    if (originalLines.has(line) || line.trim() === "") continue;
    if (!style.semicolons && /;\s*$/.test(line)) problems.push(`semicolon added: ${line}`);
    if (/^\t/.test(line) && !original.includes("\n\t")) problems.push(`tab indent added: ${line}`);
    const width = /^( *)/.exec(line)?.[1].length ?? 0;
    if (width % style.indent.length !== 0) problems.push(`indent of ${width} is not a multiple of ${style.indent.length}: ${line}`);
    const quote = style.quote === '"' ? "'" : '"';
    if (line.includes(quote) && !original.includes(quote)) problems.push(`other quote style added: ${line}`);
  }
  return problems;
}
