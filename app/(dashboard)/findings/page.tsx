import { requireUser } from "../../../lib/auth/session.ts";
import { type FindingStatus, findingStatuses, listFindings } from "../../../lib/db/index.ts";
import type { Severity } from "../../../lib/analyzer/types.ts";
import { EmptyState, SeverityBadge } from "../empty-state.tsx";

export const dynamic = "force-dynamic";

const severities: readonly Severity[] = ["error", "warning", "info"];

type Search = { status?: string; severity?: string; rule?: string; repository?: string };

export default async function FindingsPage({ searchParams }: { searchParams: Promise<Search> }) {
  const { organization } = await requireUser();
  const search = await searchParams;
  const status = findingStatuses.includes(search.status as FindingStatus) ? (search.status as FindingStatus) : "open";
  const severity = severities.includes(search.severity as Severity) ? (search.severity as Severity) : undefined;
  const rule = search.rule && /^[a-z-]+$/.test(search.rule) ? search.rule : undefined;
  const findings = organization
    ? await listFindings({ organizationId: organization.id, repositoryId: search.repository, status, severity, rule, take: 500 })
    : [];
  return (
    <section>
      <h1 className="mb-4 text-2xl font-semibold">Findings</h1>
      <form className="mb-6 flex flex-wrap items-end gap-3 text-sm" method="get">
        <label className="flex flex-col">
          Status
          <select name="status" defaultValue={status} className="mt-1 rounded-md border border-slate-300 bg-white px-2 py-1">
            {findingStatuses.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="flex flex-col">
          Severity
          <select name="severity" defaultValue={severity ?? ""} className="mt-1 rounded-md border border-slate-300 bg-white px-2 py-1">
            <option value="">any</option>
            {severities.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="flex flex-col">
          Rule
          <input name="rule" defaultValue={rule ?? ""} placeholder="session-not-closed" className="mt-1 rounded-md border border-slate-300 px-2 py-1" />
        </label>
        <button type="submit" className="rounded-md bg-slate-900 px-3 py-1.5 text-white">
          Filter
        </button>
      </form>
      {findings.length === 0 ? (
        <EmptyState title={`No ${status} findings`}>
          Run a scan from a repository page, or scan a checkout with{" "}
          <code className="rounded bg-slate-100 px-1">npm run poolguard -- scan .</code>
        </EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100 rounded-xl border border-slate-200 bg-white text-sm" aria-label="Findings">
          {findings.map((f) => (
            <li key={f.id} className="px-4 py-3" data-rule={f.rule}>
              <div className="flex items-center gap-3">
                <SeverityBadge severity={f.severity} />
                <code className="font-mono text-xs text-slate-700">{f.rule}</code>
                <span className="font-mono text-xs text-slate-500">
                  {f.repository.name}/{f.path}:{f.line}
                </span>
                {f.fix ? <span className="ml-auto text-xs text-emerald-700">{f.fix.safety} fix available</span> : null}
              </div>
              <p className="mt-1 text-slate-800">{f.message}</p>
              {f.ignoredReason ? <p className="mt-1 text-xs text-slate-500">Ignored: {f.ignoredReason}</p> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
