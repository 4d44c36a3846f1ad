import { readFileSync } from "node:fs";
import { join } from "node:path";
import { scan } from "../analyzer/index.ts";
import type { PoolguardConfig, ScanResult } from "../analyzer/types.ts";
import { type SourceContext, sourceContext } from "./source-context.ts";

// Child side of analyzer-process.ts: one request, progress messages, one result.
type Request = { type: "scan"; root: string; jobs?: number; config?: PoolguardConfig };

const maxSnippetLines = 6;

/**
 * The flagged lines of each finding, and the bounded code around them, so the dashboard
 * can show them once the snapshot is gone.
 */
function snippetsOf(root: string, result: ScanResult): { snippets: [string, string][]; contexts: [string, SourceContext][] } {
  const byPath = new Map<string, string[]>();
  const out: [string, string][] = [];
  const contexts: [string, SourceContext][] = [];
  for (const f of result.findings) {
    let lines = byPath.get(f.path);
    if (!lines) {
      try {
        lines = readFileSync(join(root, f.path), "utf8").split("\n");
      } catch {
        lines = [];
      }
      byPath.set(f.path, lines);
    }
    const end = Math.min(f.end_line, f.line + maxSnippetLines - 1);
    out.push([f.fingerprint, lines.slice(f.line - 1, end).join("\n")]);
    const context = sourceContext(lines, f.line, f.end_line);
    if (context) contexts.push([f.fingerprint, context]);
  }
  return { snippets: out, contexts };
}

process.on("message", async (message: Request) => {
  if (message.type !== "scan") return;
  try {
    const full = await scan({
      root: message.root,
      jobs: message.jobs,
      config: message.config,
      onProgress: (progress) => process.send?.({ type: "progress", ...progress }),
    });
    const result: ScanResult = {
      tool: full.tool,
      root: full.root,
      files_scanned: full.files_scanned,
      duration_ms: full.duration_ms,
      findings: full.findings,
      errors: full.errors,
    };
    process.send?.({ type: "result", result, ...snippetsOf(message.root, result), memory: process.memoryUsage().rss });
  } catch (error) {
    process.send?.({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready" });
