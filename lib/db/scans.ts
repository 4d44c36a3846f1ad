import type { ScanResult } from "../analyzer/types.ts";
import { db } from "./client.ts";
import { parseJson, type ScanStatus, type ScanTrigger } from "./types.ts";

export async function createScan(input: {
  repositoryId: string;
  trigger: ScanTrigger;
  branch?: string | null;
  commitSha?: string | null;
  pullRequestNumber?: number | null;
}) {
  return db().scan.create({
    data: {
      repositoryId: input.repositoryId,
      trigger: input.trigger,
      branch: input.branch ?? null,
      commitSha: input.commitSha ?? null,
      pullRequestNumber: input.pullRequestNumber ?? null,
    },
  });
}

export async function markScanRunning(id: string) {
  return db().scan.update({ where: { id }, data: { status: "running", startedAt: new Date() } });
}

export async function updateScanProgress(id: string, progress: { filesDone: number; filesTotal: number }) {
  await db().scan.update({ where: { id }, data: progress });
}

export async function failScan(id: string, error: string) {
  return db().scan.update({ where: { id }, data: { status: "failed", error, finishedAt: new Date() } });
}


/**
 * Store a finished scan and reconcile the repository's findings by fingerprint:
 * new -> open; seen again -> location refreshed (ignored stays ignored, fixed reopens);
 * open but absent from a full scan -> fixed. A partial scan (only some paths reported)
 * never closes findings it did not look at. Suppressed-in-source findings are kept as
 * ignored, so the dashboard shows them without counting them as open.
 */
export async function completeScan(
  id: string,
  result: ScanResult,
  { partial = false, snippets }: { partial?: boolean; /** fingerprint -> source text of the flagged lines */ snippets?: Map<string, string> } = {},
) {
  const countsByRule: Record<string, number> = {};
  const countsBySeverity: Record<string, number> = {};
  const active = result.findings.filter((f) => !f.suppressed);
  for (const f of active) {
    countsByRule[f.rule] = (countsByRule[f.rule] ?? 0) + 1;
    countsBySeverity[f.severity] = (countsBySeverity[f.severity] ?? 0) + 1;
  }
  return db().$transaction(
    async (tx) => {
      const scan = await tx.scan.findUniqueOrThrow({ where: { id } });
      const existing = await tx.finding.findMany({ where: { repositoryId: scan.repositoryId } });
      const byFingerprint = new Map(existing.map((f) => [f.fingerprint, f]));
      const seen = new Set<string>();
      for (const f of result.findings) {
        if (seen.has(f.fingerprint)) continue;
        seen.add(f.fingerprint);
        const location = {
          rule: f.rule,
          severity: f.severity,
          message: f.message,
          path: f.path,
          line: f.line,
          column: f.column,
          endLine: f.end_line,
          endColumn: f.end_column,
          snippet: snippets?.get(f.fingerprint) ?? "",
          fix: f.fix ? JSON.stringify(f.fix) : null,
          fixSafety: f.fix?.safety ?? null,
          lastSeenScanId: id,
        };
        const previous = byFingerprint.get(f.fingerprint);
        if (!previous) {
          await tx.finding.create({
            data: {
              ...location,
              repositoryId: scan.repositoryId,
              fingerprint: f.fingerprint,
              firstSeenScanId: id,
              status: f.suppressed ? "ignored" : "open",
              ignoredReason: f.suppressed ? "suppressed in source" : null,
            },
          });
          continue;
        }
        const status = f.suppressed ? "ignored" : previous.status === "fixed" ? "open" : previous.status;
        await tx.finding.update({
          where: { id: previous.id },
          data: {
            ...location,
            status,
            ignoredReason: f.suppressed ? "suppressed in source" : status === "ignored" ? previous.ignoredReason : null,
            fixedInScanId: status === "open" ? null : previous.fixedInScanId,
          },
        });
      }
      if (!partial) {
        await tx.finding.updateMany({
          where: { repositoryId: scan.repositoryId, status: "open", fingerprint: { notIn: [...seen] } },
          data: { status: "fixed", fixedInScanId: id },
        });
      }
      return tx.scan.update({
        where: { id },
        data: {
          status: "succeeded",
          finishedAt: new Date(),
          filesScanned: result.files_scanned,
          filesDone: result.files_scanned,
          filesTotal: Math.max(scan.filesTotal, result.files_scanned),
          findingsCount: active.length,
          countsByRule: JSON.stringify(countsByRule),
          countsBySeverity: JSON.stringify(countsBySeverity),
          durationMs: Math.round(result.duration_ms),
          error: result.errors.length > 0 ? `${result.errors.length} file(s) could not be analysed` : null,
        },
      });
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
}

function present<T extends { countsByRule: string; countsBySeverity: string; status: string; trigger: string }>(scan: T) {
  return {
    ...scan,
    status: scan.status as ScanStatus,
    trigger: scan.trigger as ScanTrigger,
    countsByRule: parseJson<Record<string, number>>(scan.countsByRule, {}),
    countsBySeverity: parseJson<Record<string, number>>(scan.countsBySeverity, {}),
  };
}

export async function getScan(id: string) {
  const scan = await db().scan.findUnique({ where: { id } });
  return scan ? present(scan) : null;
}

export async function listScans(repositoryId: string, { take = 20 }: { take?: number } = {}) {
  const scans = await db().scan.findMany({ where: { repositoryId }, orderBy: { createdAt: "desc" }, take });
  return scans.map(present);
}
