// The analyzer's public entry point, shared by the CLI, the job worker and the web app.
// A pure library: no Next.js, Prisma or Octokit.
import { type FullScanResult, runScan, type ScanOptions } from "./engine/run-scan.ts";

export { ConfigError, loadConfig, parseConfig } from "./config/load-config.ts";
export { type FixMode, type FixSummary, type FullScanResult, type ScanOptions, ScanUsageError, type ScanWarning } from "./engine/run-scan.ts";
export { formatJson } from "./output/json.ts";
export { formatSarif } from "./output/sarif.ts";
export { formatFixSummary, formatText } from "./output/text.ts";
export { listRules, type RuleInfo } from "./rules.ts";
export * from "./types.ts";
export { poolguardVersion } from "./version.ts";

export function scan(options: ScanOptions): Promise<FullScanResult> {
  return runScan(options);
}
