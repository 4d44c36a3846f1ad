import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  ConfigError,
  type FixMode,
  formatFixSummary,
  formatJson,
  formatSarif,
  formatText,
  type FullScanResult,
  listRules,
  poolguardVersion,
  ScanUsageError,
  scan,
  type Severity,
} from "../analyzer/index.ts";
import { changedLinesSince, touchesChangedLines } from "./changed-lines.ts";
import { fileFixPatch } from "./fix-diff.ts";
import { prUsage, runPrCommand } from "./pr.ts";

// Exit codes: 0 nothing at/above --fail-on, 1 findings, 2 usage or config error.
export type ExitCode = 0 | 1 | 2;

const usage = `poolguard ${poolguardVersion}: database session and connection lifecycle checks

Usage:
  poolguard scan [ROOT] [PATH...] [--only PATH]... [--changed-since GIT_REF [--changed-files]]
                 [--config FILE] [--format text|json|sarif] [--output FILE]
                 [--fix [--unsafe-fixes] [--diff]] [--baseline FILE]
                 [--fail-on info|warning|error|never] [--jobs N]
  poolguard rules [--format text|json]
  poolguard scan ... --upload URL   (send the results to a Poolguard server; token in POOLGUARD_TOKEN)
  poolguard admin create-token [--org SLUG] [--role admin|member|viewer] [--name NAME]
  ${prUsage}
  poolguard --version

PATHs after ROOT are the same as --only (so pre-commit can pass staged files).
--changed-since reports findings on lines changed since GIT_REF; with --changed-files,
every finding in a changed file. --fix --diff prints the fixes as a patch, writing nothing.
Exit status: 0 no findings at or above --fail-on (default warning), 1 findings,
2 the scan could not run (usage, configuration or internal error).
Docs: https://github.com/poolguard/poolguard/blob/main/docs/cli.md`;

class UsageError extends Error {}

type Io = { stdout: (s: string) => void; stderr: (s: string) => void; isTty: boolean; env: NodeJS.ProcessEnv };

const severityRank: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

function failOnThreshold(value: string): Severity | "never" {
  if (value === "never" || value === "info" || value === "warning" || value === "error") return value;
  throw new UsageError(`--fail-on must be info, warning, error or never (got "${value}")`);
}

function readBaseline(path: string): Set<string> {
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as { fingerprints?: unknown };
    if (!Array.isArray(data.fingerprints)) throw new Error("no fingerprints array");
    return new Set(data.fingerprints.filter((f): f is string => typeof f === "string"));
  } catch (error) {
    throw new UsageError(`--baseline ${path}: not a Poolguard baseline (${(error as Error).message})`);
  }
}

async function runScanCommand(args: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      only: { type: "string", multiple: true },
      "changed-since": { type: "string" },
      "changed-files": { type: "boolean", default: false },
      config: { type: "string" },
      format: { type: "string", default: "text" },
      output: { type: "string" },
      fix: { type: "boolean", default: false },
      "unsafe-fixes": { type: "boolean", default: false },
      diff: { type: "boolean", default: false },
      baseline: { type: "string" },
      "fail-on": { type: "string", default: "warning" },
      jobs: { type: "string" },
      upload: { type: "string" },
    },
  });
  const format = values.format ?? "text";
  if (!["text", "json", "sarif"].includes(format)) throw new UsageError(`--format must be text, json or sarif (got "${format}")`);
  const failOn = failOnThreshold(values["fail-on"] ?? "warning");
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new UsageError("--jobs must be a positive integer");
  const [root = ".", ...paths] = positionals;
  const only = [...(values.only ?? []), ...paths];
  const fixMode: FixMode = values["unsafe-fixes"] ? "unsafe" : values.fix ? "safe" : "none";
  if (values["unsafe-fixes"] && !values.fix) throw new UsageError("--unsafe-fixes needs --fix");
  if (values.diff && !values.fix) throw new UsageError("--diff needs --fix (it prints the fixes instead of writing them)");
  if (values["changed-files"] && !values["changed-since"]) throw new UsageError("--changed-files needs --changed-since");
  const patches: string[] = [];

  const result: FullScanResult = await scan({
    root,
    only: only.length > 0 ? only : undefined,
    changedSince: values["changed-since"],
    configPath: values.config,
    jobs,
    fix: fixMode,
    writeFixes: fixMode !== "none" && !values.diff,
    onFixedFile: values.diff ? (path, before, after) => patches.push(fileFixPatch(path, before, after)) : undefined,
    onProgress: format === "text" || !io.isTty ? undefined : ({ filesDone, filesTotal }) => io.stderr(`\rscanned ${filesDone}/${filesTotal} files`),
  });

  // The scan reported every finding in the changed files; keep those on changed lines.
  if (values["changed-since"] && !values["changed-files"]) {
    const changed = changedLinesSince(result.root, values["changed-since"]);
    result.findings = result.findings.filter((f) => touchesChangedLines(changed, f));
  }

  if (values.baseline) {
    if (!existsSync(values.baseline)) {
      const fingerprints = [...new Set(result.findings.map((f) => f.fingerprint))].sort();
      writeFileSync(values.baseline, `${JSON.stringify({ tool: "poolguard", version: poolguardVersion, fingerprints }, null, 2)}\n`);
      io.stderr(`wrote baseline ${values.baseline} with ${fingerprints.length} findings; later scans report only new ones\n`);
      return 0;
    }
    const known = readBaseline(values.baseline);
    result.findings = result.findings.filter((f) => !known.has(f.fingerprint));
  }

  const color = format === "text" && io.isTty && !io.env.NO_COLOR;
  const document = format === "json" ? formatJson(result) : format === "sarif" ? formatSarif(result) : formatText(result, { color });
  if (values.diff) {
    // The patch owns stdout; the report goes only where --output says.
    io.stdout(patches.join(""));
    if (values.output) writeFileSync(values.output, document);
    io.stderr(formatFixSummary(result).replace(/^Fixed/, "Would fix"));
  } else if (values.output) {
    writeFileSync(values.output, document);
    if (format !== "text") io.stderr(`wrote ${format.toUpperCase()} to ${values.output}\n`);
  } else io.stdout(document);
  if (result.fixes && format !== "text" && !values.diff) io.stderr(formatFixSummary(result));
  for (const error of result.errors) if (format !== "text") io.stderr(`could not analyse ${error.path}: ${error.message}\n`);

  if (values.upload) {
    const { uploadScanResult } = await import("./upload.ts");
    const partial = only.length > 0 || Boolean(values["changed-since"]) || Boolean(values.baseline);
    await uploadScanResult(values.upload, result, { partial, env: io.env, stderr: io.stderr });
  }

  if (failOn === "never") return 0;
  const failing = result.findings.some((f) => !f.suppressed && severityRank[f.severity] >= severityRank[failOn]);
  return failing ? 1 : 0;
}

function runRulesCommand(args: string[], io: Io): ExitCode {
  const { values } = parseArgs({ args, options: { format: { type: "string", default: "text" } } });
  const rules = listRules();
  if (values.format === "json") {
    io.stdout(`${JSON.stringify(rules, null, 2)}\n`);
    return 0;
  }
  if (values.format !== "text") throw new UsageError("--format must be text or json");
  for (const rule of rules) {
    io.stdout(`${rule.id}  [${rule.languages.join(", ")}; ${rule.defaultSeverity}; fix: ${rule.fix}]\n  ${rule.summary}\n`);
    const what = rule.docs?.sections["What it does"];
    if (what) io.stdout(`${what.replace(/^/gm, "  ")}\n`);
    io.stdout("\n");
  }
  return 0;
}

export async function main(argv: string[], io: Io): Promise<ExitCode> {
  const [command, ...rest] = argv;
  try {
    if (command === "--version" || command === "-V") {
      io.stdout(`${poolguardVersion}\n`);
      return 0;
    }
    if (!command || command === "--help" || command === "-h" || command === "help") {
      io.stdout(`${usage}\n`);
      return command ? 0 : 2;
    }
    if (command === "scan") return await runScanCommand(rest, io);
    if (command === "rules") return runRulesCommand(rest, io);
    if (command === "admin") return await (await import("./admin.ts")).runAdminCommand(rest, io);
    if (command === "pr") return await runPrCommand(rest, io);
    if (command === "pr-check") return await (await import("./pr-check.ts")).runPrCheckCommand(rest, io);
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`poolguard: config error: ${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError || error instanceof ScanUsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr(`poolguard: ${(error as Error).message}\n\n${usage}\n`);
      return 2;
    }
    throw error;
  }
}
