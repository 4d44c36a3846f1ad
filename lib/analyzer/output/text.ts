import type { FullScanResult } from "../engine/run-scan.ts";

type Colors = { bold: (s: string) => string; dim: (s: string) => string; red: (s: string) => string; yellow: (s: string) => string; cyan: (s: string) => string; green: (s: string) => string };

function palette(enabled: boolean): Colors {
  const wrap = (code: number) => (s: string) => (enabled ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { bold: wrap(1), dim: wrap(2), red: wrap(31), yellow: wrap(33), cyan: wrap(36), green: wrap(32) };
}

/** Human output: findings grouped by file, then a summary line. */
export function formatText(result: FullScanResult, { color }: { color: boolean }): string {
  const c = palette(color);
  const out: string[] = [];
  const active = result.findings.filter((f) => !f.suppressed);
  const byFile = new Map<string, typeof active>();
  for (const f of active) byFile.set(f.path, [...(byFile.get(f.path) ?? []), f]);
  for (const [path, findings] of byFile) {
    out.push(c.bold(path));
    for (const f of findings) {
      const severity = f.severity === "error" ? c.red("error") : f.severity === "warning" ? c.yellow("warning") : c.cyan("info");
      const fix = f.fix ? c.green(` [${f.fix.safety} fix]`) : "";
      out.push(`  ${c.dim(`${f.line}:${f.column}`)}  ${severity}  ${f.message}  ${c.dim(f.rule)}${fix}`);
    }
    out.push("");
  }
  for (const error of result.errors) out.push(`${c.red("could not analyse")} ${error.path}: ${error.message}`);
  for (const warning of result.warnings) out.push(`${c.yellow("warning")} ${warning.path}:${warning.line}: ${warning.message}`);
  if (result.fixes) out.push(formatFixSummary(result));
  const suppressed = result.findings.length - active.length;
  const counts = ["error", "warning", "info"].map((s) => `${active.filter((f) => f.severity === s).length} ${s}`).join(", ");
  out.push(
    `${active.length === 0 ? c.green("No findings") : c.bold(`${active.length} finding${active.length === 1 ? "" : "s"}`)} (${counts}) in ${result.files_scanned} files, ${result.duration_ms} ms` +
      (suppressed ? `, ${suppressed} suppressed` : "") +
      (result.errors.length ? `, ${result.errors.length} not analysed` : ""),
  );
  return `${out.join("\n")}\n`;
}

export function formatFixSummary(result: FullScanResult): string {
  const fixes = result.fixes;
  if (!fixes) return "";
  const lines: string[] = [];
  const total = fixes.files.reduce((n, f) => n + f.fixed.length, 0);
  lines.push(`Fixed ${total} finding${total === 1 ? "" : "s"} in ${fixes.files.length} file${fixes.files.length === 1 ? "" : "s"}:`);
  for (const file of fixes.files) {
    const byRule = new Map<string, number>();
    for (const f of file.fixed) byRule.set(f.rule, (byRule.get(f.rule) ?? 0) + 1);
    lines.push(`  ${file.path}: ${[...byRule].map(([rule, n]) => `${rule} ×${n}`).join(", ")}`);
  }
  for (const d of fixes.dropped) lines.push(`  not fixed ${d.path}:${d.line} (${d.rule}): ${d.reason}`);
  return `${lines.join("\n")}\n`;
}
