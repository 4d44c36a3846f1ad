import Link from "next/link";
import { notFound } from "next/navigation";
import { requireMember, roleAtLeast } from "../../../../lib/auth/access.ts";
import { getFindingInOrganization, getRepositorySettings, ignoreReasons } from "../../../../lib/db/index.ts";
import { listRules } from "../../../../lib/analyzer/rules.ts";
import { contextFixDiff, findingSource, fixDiff } from "../../../../lib/ui/finding-source.ts";
import { highlight } from "../../../../lib/ui/highlight.ts";
import { MarkdownView } from "../../../../lib/ui/markdown.tsx";
import { SeverityBadge, StatusBadge } from "../../empty-state.tsx";
import { Notice } from "../../notice.tsx";
import { openFixPullRequests, triage } from "../actions.ts";
import { githubFindingSource } from "./github-file.ts";
import { RefreshWhilePending } from "./refresh-while-pending.tsx";
import { fixGroupingLabels, reasonLabels, when } from "../../format.ts";

export const dynamic = "force-dynamic";


/** The pull request's page on GitHub (or GitHub Enterprise Server when GITHUB_API_URL points there). */
function pullRequestUrl(repositoryName: string, number: number): string {
  const api = process.env.GITHUB_API_URL ?? "https://api.github.com";
  const web = api.replace(/\/api\/v3\/?$/, "").replace("://api.github.com", "://github.com");
  return `${web}/${repositoryName}/pull/${number}`;
}

/** A job that has not answered in this long is taken as lost (its process stopped). */
const pendingForMs = 10 * 60_000;

type FixPullRequestState = { kind: "pending" } | { kind: "failed"; error: string } | { kind: "idle" };

/** Where the last "Open fix PR" of this finding stands, from its history. */
function fixPullRequestState(history: { action: string; at: Date; data: Record<string, unknown> }[]): FixPullRequestState {
  const last = [...history].reverse().find((e) => e.action.startsWith("finding.fix-pr-"));
  if (!last) return { kind: "idle" };
  if (last.action === "finding.fix-pr-requested") return Date.now() - last.at.getTime() < pendingForMs ? { kind: "pending" } : { kind: "failed", error: "the request did not finish; try again" };
  if (last.action === "finding.fix-pr-failed") return { kind: "failed", error: String(last.data.error ?? "unknown error") };
  return { kind: "idle" };
}

/** Why this finding cannot go into a fix pull request, or null when it can. */
function whyNoFixPullRequest(finding: { status: string; fix: { safety: string } | null; repository: { provider: string } }): string | null {
  if (finding.repository.provider !== "github") return "Fix pull requests are opened on GitHub repositories only.";
  if (!finding.fix) return "This finding has no automatic fix, so there is nothing to propose.";
  if (finding.fix.safety !== "safe") return "Only safe fixes go into pull requests; this fix may change behaviour. Review it and apply it by hand.";
  if (finding.status !== "open") return "Only open findings go into pull requests.";
  return null;
}

function historyLabel(event: { action: string; data: Record<string, unknown> }): string {
  switch (event.action) {
    case "finding.ignored":
      return `Ignored (${reasonLabels[String(event.data.reason)] ?? String(event.data.reason)})`;
    case "finding.reopened":
    case "finding.open":
      return "Reopened";
    case "finding.fix-pr-requested":
      return "Fix pull request requested";
    case "finding.fix-pr-opened":
      return "Fix pull request opened";
    case "finding.fix-pr-failed":
      return `Fix pull request failed (${String(event.data.error ?? "")})`;
    default:
      return event.action;
  }
}


export default async function FindingPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ notice?: string }> }) {
  const { organization, role } = await requireMember();
  const { id } = await params;
  const { notice } = await searchParams;
  const finding = await getFindingInOrganization(id, organization.id);
  if (!finding) notFound();
  const rule = listRules().find((r) => r.id === finding.rule);
  const settings = await getRepositorySettings(finding.repository.id);
  const grouping = fixGroupingLabels[settings.fixPrGrouping as keyof typeof fixGroupingLabels] ?? fixGroupingLabels.rule;
  const fromGitHub =
    finding.repository.provider === "github"
      ? await githubFindingSource({ repositoryName: finding.repository.name, commitSha: finding.lastSeenScan?.commitSha ?? null, path: finding.path, line: finding.line, endLine: finding.endLine })
      : null;
  const source = fromGitHub ?? await findingSource({
    provider: finding.repository.provider,
    localPath: finding.repository.localPath,
    path: finding.path,
    line: finding.line,
    endLine: finding.endLine,
    snippet: finding.snippet,
    context: finding.context,
    contextStartLine: finding.contextStartLine,
  });
  const marked = new Set<number>();
  for (let line = finding.line; line <= finding.endLine; line++) marked.add(line);
  const codeHtml = source.text ? await highlight(source.text, finding.path, { firstLine: source.firstLine, marked }) : null;
  const diff =
    fixDiff(finding.path, source.fileText, finding.fix) ??
    (source.from === "context" ? contextFixDiff(finding.path, { text: source.text, startLine: source.firstLine }, finding.fix) : null);
  const diffHtml = diff ? await highlight(diff, "diff") : null;
  const canTriage = roleAtLeast(role, "member");
  const back = `/findings/${finding.id}`;
  const prState = fixPullRequestState(finding.history);
  const hasOpenPullRequest = finding.pullRequests.some((pr) => pr.state === "open" && pr.number !== null);
  const noPullRequestReason = whyNoFixPullRequest(finding);
  return (
    <article>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link href="/findings" className="hover:underline">
          Findings
        </Link>{" "}
        /{" "}
        <Link href={`/repositories/${finding.repository.id}`} className="hover:underline">
          {finding.repository.name}
        </Link>
      </nav>
      <header className="mb-4">
        <div className="flex flex-wrap items-center gap-2">
          <SeverityBadge severity={finding.severity} />
          <StatusBadge status={finding.status} />
          <Link href={`/rules/${finding.rule}`} className="font-mono text-sm text-sky-700 hover:underline dark:text-sky-400">
            {finding.rule}
          </Link>
        </div>
        <h1 className="mt-2 text-xl font-semibold break-words">{finding.message}</h1>
        <p className="mt-1 font-mono text-xs break-all text-slate-600 dark:text-slate-400">
          {finding.path}:{finding.line}:{finding.column}
        </p>
      </header>

      <section aria-labelledby="code" className="mb-6">
        <h2 id="code" className="mb-2 text-lg font-semibold">
          Code
        </h2>
        {codeHtml ? (
          // biome-ignore lint/security/noDangerouslySetInnerHtml: shiki escapes the code it highlights
          <div className="numbered code-block" dangerouslySetInnerHTML={{ __html: codeHtml }} />
        ) : (
          <p className="muted text-sm">The source of this finding is not stored.</p>
        )}
        {source.from === "context" && codeHtml ? <p className="muted mt-1 text-xs">The code as of the last scan.</p> : null}
        {source.from === "snippet" && codeHtml ? <p className="muted mt-1 text-xs">Showing the flagged lines as of the last scan.</p> : null}
      </section>

      <section aria-labelledby="fix" className="mb-6">
        <h2 id="fix" className="mb-2 text-lg font-semibold">
          Proposed fix
        </h2>
        {finding.fix ? (
          <div className="space-y-2">
            <p className="text-sm">
              <span
                className={`mr-2 rounded px-2 py-0.5 text-xs font-medium ${finding.fix.safety === "safe" ? "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300" : "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300"}`}
              >
                {finding.fix.safety}
              </span>
              {finding.fix.description}
            </p>
            {diffHtml ? (
              // biome-ignore lint/security/noDangerouslySetInnerHtml: shiki escapes the code it highlights
              <div className="code-block" dangerouslySetInnerHTML={{ __html: diffHtml }} />
            ) : (
              <ul className="muted list-disc pl-5 text-xs">
                {finding.fix.edits.map((e) => (
                  <li key={`${e.path}:${e.start.line}:${e.start.column}`}>
                    {e.path}:{e.start.line}–{e.end.line}: {e.text ? `insert ${JSON.stringify(e.text.slice(0, 80))}` : "delete"}
                  </li>
                ))}
              </ul>
            )}
            <p className="muted text-xs">
              {finding.fix.safety === "safe"
                ? "Safe: the fix keeps the program's behaviour apart from releasing the resource on every path."
                : "Unsafe: review it; it may change behaviour."}
            </p>
          </div>
        ) : (
          <p className="muted text-sm">No automatic fix for this finding.</p>
        )}
        {finding.pullRequests.length > 0 ? (
          <ul className="mt-2 text-sm" aria-label="Fix pull requests">
            {finding.pullRequests.map((pr) => (
              <li key={pr.id}>
                Fix pull request{" "}
                {pr.number ? (
                  <a href={pr.url ?? pullRequestUrl(finding.repository.name, pr.number)} className="text-sky-700 underline dark:text-sky-400">
                    #{pr.number}
                  </a>
                ) : (
                  <span>{pr.branch}</span>
                )}{" "}
                ({pr.state}){pr.stoppedReason ? <span className="muted"> · {pr.stoppedReason}</span> : null}
              </li>
            ))}
          </ul>
        ) : null}
        {canTriage && !hasOpenPullRequest ? (
          <div className="mt-3 text-sm">
            {prState.kind === "pending" ? (
              <output className="muted block">
                Opening a fix pull request…
                <RefreshWhilePending />
              </output>
            ) : (
              <form action={openFixPullRequests} className="flex flex-wrap items-center gap-2">
                <input type="hidden" name="ids" value={finding.id} />
                <input type="hidden" name="back" value={back} />
                <button type="submit" className="button-primary" disabled={noPullRequestReason !== null} aria-describedby={noPullRequestReason ? "no-fix-pr" : undefined}>
                  Open fix PR
                </button>
                {noPullRequestReason ? (
                  <span id="no-fix-pr" className="muted text-xs">
                    {noPullRequestReason}
                  </span>
                ) : (
                  <span className="muted text-xs">
                    {grouping} (
                    <Link href={`/repositories/${finding.repository.id}`} className="underline">
                      repository setting
                    </Link>
                    ).
                  </span>
                )}
              </form>
            )}
            {prState.kind === "failed" ? (
              <p role="alert" className="mt-1 text-xs text-red-700 dark:text-red-400">
                The last attempt failed: {prState.error}
              </p>
            ) : null}
          </div>
        ) : null}
      </section>

      {canTriage ? (
        <section aria-labelledby="triage" className="card mb-6 p-4">
          <h2 id="triage" className="mb-2 text-lg font-semibold">
            Triage
          </h2>
          <form action={triage} className="flex flex-wrap items-end gap-2 text-sm">
            <input type="hidden" name="ids" value={finding.id} />
            <input type="hidden" name="back" value={back} />
            {finding.status === "ignored" ? (
              <button type="submit" name="action" value="reopen" className="button-secondary">
                Reopen
              </button>
            ) : (
              <>
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
                  Ignore
                </button>
              </>
            )}
          </form>
        </section>
      ) : null}

      <section aria-labelledby="history" className="mb-6">
        <h2 id="history" className="mb-2 text-lg font-semibold">
          History
        </h2>
        <ol className="space-y-1 text-sm">
          <li>
            First seen {when(finding.firstSeenScan?.createdAt ?? finding.createdAt)}
            {finding.firstSeenScan?.commitSha ? <span className="muted font-mono text-xs"> at {finding.firstSeenScan.commitSha.slice(0, 7)}</span> : null}
          </li>
          {finding.lastSeenScan ? <li>Last seen {when(finding.lastSeenScan.createdAt)}</li> : null}
          {finding.history.map((event) => (
            <li key={event.id}>
              {historyLabel(event)}{" "}
              by {event.actor ?? "someone"} on {when(event.at)}
              {typeof event.data.comment === "string" && event.data.comment ? <q className="muted ml-1">{event.data.comment}</q> : null}
            </li>
          ))}
          {finding.fixedInScan ? <li>Fixed in the scan of {when(finding.fixedInScan.createdAt)}</li> : null}
        </ol>
      </section>

      {rule?.docs ? (
        <section aria-labelledby="rule" className="card p-4">
          <h2 id="rule" className="mb-1 text-lg font-semibold">
            About {rule.id}
          </h2>
          <MarkdownView source={[rule.docs.sections["What it does"], rule.docs.sections["Why is this bad?"]].filter(Boolean).join("\n\n")} />
          <Link href={`/rules/${rule.id}`} className="mt-2 inline-block text-sm text-sky-700 underline dark:text-sky-400">
            Examples, fix safety and options
          </Link>
        </section>
      ) : null}
      <Notice text={notice} />
    </article>
  );
}
