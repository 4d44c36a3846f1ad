import { formatSarif } from "../../../../lib/analyzer/output/sarif.ts";
import { poolguardVersion } from "../../../../lib/analyzer/version.ts";
import { currentMember } from "../../../../lib/auth/session.ts";
import { searchFindings } from "../../../../lib/db/index.ts";
import { parseFindingsQuery } from "../search-params.ts";

export const dynamic = "force-dynamic";

const maxRows = 50_000;

function csvCell(value: string | number | null | undefined): string {
  const text = String(value ?? "");
  // Quote everything; neutralise spreadsheet formulas in user-controlled text.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** The findings table's current filters as CSV or SARIF (all pages, up to 50,000 rows). */
export async function GET(request: Request): Promise<Response> {
  const member = await currentMember();
  if (!member) return Response.json({ error: { code: "unauthenticated", message: "Sign in first." } }, { status: 401 });
  const { organization } = member;
  if (!organization) return Response.json({ error: { code: "not_found", message: "No organization." } }, { status: 404 });
  const url = new URL(request.url);
  const format = url.searchParams.get("format") === "sarif" ? "sarif" : "csv";
  const query = Object.fromEntries(url.searchParams.entries());
  const search = parseFindingsQuery({ ...query, page: "1" }, organization.id);
  const items = [];
  for (let page = 1; items.length < maxRows; page++) {
    const result = await searchFindings({ ...search, sort: "path", page, pageSize: 200 });
    items.push(...result.items);
    if (result.items.length < 200) break;
  }
  const stamp = new Date().toISOString().slice(0, 10);
  if (format === "csv") {
    const header = ["id", "repository", "rule", "severity", "status", "path", "line", "column", "message", "fingerprint", "fix", "ignored_reason"];
    const rows = items.map((f) =>
      [f.id, f.repository.name, f.rule, f.severity, f.status, f.path, f.line, f.column, f.message, f.fingerprint, f.fix?.safety ?? "", f.ignoredReason ?? ""].map(csvCell).join(","),
    );
    return new Response(`${header.join(",")}\n${rows.join("\n")}\n`, {
      headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="poolguard-findings-${stamp}.csv"` },
    });
  }
  const sarif = formatSarif({
    tool: { name: "poolguard", version: poolguardVersion },
    root: ".",
    files_scanned: 0,
    duration_ms: 0,
    findings: items.map((f) => ({
      rule: f.rule as never,
      severity: f.severity,
      message: f.message,
      path: `${f.repository.name}/${f.path}`,
      line: f.line,
      column: f.column,
      end_line: f.endLine,
      end_column: f.endColumn,
      fingerprint: f.fingerprint,
      suppressed: f.status === "ignored",
      fix: null,
    })),
    errors: [],
    skipped: [],
    warnings: [],
  });
  return new Response(sarif, {
    headers: { "content-type": "application/sarif+json", "content-disposition": `attachment; filename="poolguard-findings-${stamp}.sarif"` },
  });
}
