import Link from "next/link";
import { requireMember, roleAtLeast } from "../../../lib/auth/access.ts";
import { listRules } from "../../../lib/analyzer/rules.ts";
import { findingStatuses, ignoreReasons, listRepositoryOptions, searchFindings } from "../../../lib/db/index.ts";
import { EmptyState, SeverityBadge, StatusBadge } from "../empty-state.tsx";
import { Notice } from "../notice.tsx";
import { openFixPullRequests, triage } from "./actions.ts";
import { type FindingsQuery, findingsHref, parseFindingsQuery } from "./search-params.ts";
import { reasonLabels } from "../format.ts";

export const dynamic = "force-dynamic";


export default async function FindingsPage({ searchParams }: { searchParams: Promise<FindingsQuery & { notice?: string }> }) {
  const { organization, role } = await requireMember();
  const { notice, ...query } = await searchParams;
  const search = parseFindingsQuery(query, organization.id);
  // The rule filter lists the catalogue: no query over every finding to learn which rules occur.
  const rules = listRules().map((r) => r.id);
  const [{ items, total, page, pageSize }, repositories] = await Promise.all([searchFindings(search), listRepositoryOptions(organization.id)]);
  const canTriage = roleAtLeast(role, "member");
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const back = findingsHref(query, {});
  const exportQuery = new URLSearchParams(Object.entries(query).filter(([key, value]) => key !== "page" && value) as [string, string][]).toString();
  return (
    <section>
      <div className="mb-4 flex flex-wrap items-baseline gap-3">
        <h1 className="text-2xl font-semibold">Findings</h1>
        <span className="muted text-sm" data-testid="findings-total">
          {total} {search.status ?? "in any status"}
        </span>
        <span className="ml-auto flex gap-2 text-sm">
          <a className="button-secondary px-2 py-1" href={`/findings/export?format=csv${exportQuery ? `&${exportQuery}` : ""}`}>
            Export CSV
          </a>
          <a className="button-secondary px-2 py-1" href={`/findings/export?format=sarif${exportQuery ? `&${exportQuery}` : ""}`}>
            Export SARIF
          </a>
        </span>
      </div>
      <form className="card mb-4 grid grid-cols-2 gap-3 p-3 text-sm sm:grid-cols-3 lg:grid-cols-7" method="get" aria-label="Filters">
        <label className="flex flex-col">
          Repository
          <select name="repository" defaultValue={search.repositoryId ?? ""} className="input mt-1">
            <option value="">all</option>
            {repositories.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col">
          Rule
          <select name="rule" defaultValue={search.rule ?? ""} className="input mt-1">
            <option value="">all</option>
            {rules.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label className="flex flex-col">
          Severity
          <select name="severity" defaultValue={search.severity ?? ""} className="input mt-1">
            <option value="">any</option>
            <option>error</option>
            <option>warning</option>
            <option>info</option>
          </select>
        </label>
        <label className="flex flex-col">
          Status
          <select name="status" defaultValue={search.status ?? "any"} className="input mt-1">
            {findingStatuses.map((s) => (
              <option key={s}>{s}</option>
            ))}
            <option value="any">any</option>
          </select>
        </label>
        <label className="flex flex-col">
          Path
          <input name="path" defaultValue={search.path ?? ""} placeholder="src/api" className="input mt-1" />
        </label>
        <label className="flex flex-col">
          New since
          <input name="since" type="date" defaultValue={query.since ?? ""} className="input mt-1" />
        </label>
        <div className="flex items-end gap-2">
          <label className="flex flex-1 flex-col">
            Sort
            <select name="sort" defaultValue={search.sort} className="input mt-1">
              <option value="severity">severity</option>
              <option value="path">path</option>
              <option value="rule">rule</option>
              <option value="newest">newest</option>
            </select>
          </label>
          <button type="submit" className="button-primary">
            Apply
          </button>
        </div>
      </form>
      {items.length === 0 ? (
        <EmptyState title={total === 0 ? `No ${search.status ?? ""} findings` : "No findings on this page"}>
          {total === 0 ? (
            <>
              Change the filters, scan a repository from its page, or scan a checkout with <code className="code-inline">npx poolguard scan .</code>
            </>
          ) : (
            <Link href={findingsHref(query, { page: "1" })} className="text-sky-700 underline dark:text-sky-400">
              Back to the first page
            </Link>
          )}
        </EmptyState>
      ) : (
        <form action={triage}>
          <input type="hidden" name="back" value={back} />
          {canTriage ? (
            <fieldset className="card mb-3 flex flex-wrap items-end gap-2 p-3 text-sm">
              <legend className="sr-only">Triage the selected findings</legend>
              <label className="flex flex-col">
                Reason
                <select name="reason" defaultValue="false-positive" className="input mt-1">
                  {ignoreReasons.map((r) => (
                    <option key={r} value={r}>
                      {reasonLabels[r]}
                    </option>
                  ))}
                </select>
              </label>
              <label className="flex min-w-40 flex-1 flex-col">
                Comment
                <input name="comment" maxLength={2000} placeholder="optional" className="input mt-1" />
              </label>
              <button type="submit" name="action" value="ignore" className="button-primary">
                Ignore selected
              </button>
              <button type="submit" name="action" value="reopen" className="button-secondary">
                Reopen selected
              </button>
              <button type="submit" formAction={openFixPullRequests} className="button-secondary" title="Open findings of GitHub repositories with a safe fix">
                Open fix PRs
              </button>
            </fieldset>
          ) : null}
          <ul className="card divide-y divide-slate-100 text-sm dark:divide-slate-800" aria-label="Findings">
            {items.map((f) => (
              <li key={f.id} className="flex gap-3 px-3 py-3 sm:px-4" data-rule={f.rule}>
                {canTriage ? (
                  <input type="checkbox" name="ids" value={f.id} aria-label={`Select ${f.rule} in ${f.path}:${f.line}`} className="mt-1 size-4 shrink-0" />
                ) : null}
                <div className="min-w-0 flex-1">
                  <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
                    <SeverityBadge severity={f.severity} />
                    <code className="font-mono text-xs text-slate-700 dark:text-slate-300">{f.rule}</code>
                    {f.status !== "open" ? <StatusBadge status={f.status} /> : null}
                    {f.fix ? <span className="text-xs text-emerald-700 sm:ml-auto dark:text-emerald-400">{f.fix.safety} fix</span> : null}
                  </div>
                  <Link href={`/findings/${f.id}`} className="mt-1 block font-mono text-xs break-all text-sky-700 hover:underline dark:text-sky-400">
                    {f.repository.name}/{f.path}:{f.line}
                  </Link>
                  <p className="mt-1 break-words text-slate-800 dark:text-slate-200">{f.message}</p>
                  {f.ignoredReason ? <p className="muted mt-1 text-xs">Ignored: {reasonLabels[f.ignoredReason] ?? f.ignoredReason}</p> : null}
                </div>
              </li>
            ))}
          </ul>
        </form>
      )}
      {pages > 1 ? (
        <nav aria-label="Pages" className="mt-4 flex items-center justify-between text-sm">
          {page > 1 ? (
            <Link className="button-secondary" href={findingsHref(query, { page: String(page - 1) })}>
              Previous
            </Link>
          ) : (
            <span />
          )}
          <span className="muted">
            Page {page} of {pages}
          </span>
          {page < pages ? (
            <Link className="button-secondary" href={findingsHref(query, { page: String(page + 1) })}>
              Next
            </Link>
          ) : (
            <span />
          )}
        </nav>
      ) : null}
      <Notice text={notice} />
    </section>
  );
}
