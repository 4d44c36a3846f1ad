import type { FullScanResult } from "../engine/run-scan.ts";

/** The CLI's JSON document (contract in docs/cli.md); extra keys only ever get added. */
export function formatJson(result: FullScanResult): string {
  const { tool, root, files_scanned, duration_ms, findings, errors, skipped, warnings, fixes } = result;
  return `${JSON.stringify({ tool, root, files_scanned, duration_ms, findings, errors, warnings, skipped, ...(fixes ? { fixes } : {}) }, null, 2)}\n`;
}
