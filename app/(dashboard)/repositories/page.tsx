import Link from "next/link";
import { requireMember, roleAtLeast } from "../../../lib/auth/access.ts";
import { listRepositories, repositoryTrends } from "../../../lib/db/index.ts";
import { getRepositorySchedule } from "../../../lib/jobs/index.ts";
import { Sparkline } from "../../components/sparkline.tsx";
import { EmptyState } from "../empty-state.tsx";
import { Notice } from "../notice.tsx";
import { type ConnectableRepository, listConnectableGitHubRepositories } from "../../api/v1/_lib/repositories.ts";
import { addRepository, connectGitHubRepository, scanNow } from "./actions.ts";
import { when } from "../format.ts";

export const dynamic = "force-dynamic";


/** The App installations' repositories, live from GitHub; a message instead when that fails. */
async function connectable(organizationId: string): Promise<{ repositories: ConnectableRepository[] | null; error: string | null }> {
  try {
    return { repositories: await listConnectableGitHubRepositories(organizationId), error: null };
  } catch (error) {
    return { repositories: [], error: (error as Error).message };
  }
}

function GitHubPicker({ repositories, error }: { repositories: ConnectableRepository[]; error: string | null }) {
  const available = repositories.filter((r) => !r.connected && !r.archived);
  return (
    <section className="card mt-6 p-4 text-sm" aria-labelledby="connect-github">
      <h2 id="connect-github" className="mb-2 font-semibold">
        Connect from GitHub
      </h2>
      {error ? (
        <p role="alert" className="text-red-700 dark:text-red-400">
          {error}
        </p>
      ) : available.length === 0 ? (
        <p className="muted">
          {repositories.length === 0
            ? "The GitHub App is not installed on any repository yet. Install it on GitHub, then come back."
            : "Every repository the GitHub App can see is connected."}
        </p>
      ) : (
        <ul className="divide-y divide-slate-200 dark:divide-slate-800" aria-label="GitHub repositories">
          {available.map((r) => (
            <li key={r.id} className="flex flex-wrap items-center gap-2 py-2">
              <span className="min-w-0 flex-1 font-mono break-all">{r.fullName}</span>
              <span className="muted text-xs">{r.private ? "private" : "public"} · {r.defaultBranch}</span>
              <form action={connectGitHubRepository}>
                <input type="hidden" name="fullName" value={r.fullName} />
                <button type="submit" className="button-primary px-2 py-1" aria-label={`Connect ${r.fullName}`}>
                  Connect
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <p className="muted mt-2 text-xs">Listed live from the GitHub App's installations. Connecting one scans it now and every day.</p>
    </section>
  );
}

export default async function RepositoriesPage({ searchParams }: { searchParams: Promise<{ notice?: string }> }) {
  const { organization, role } = await requireMember();
  const { notice } = await searchParams;
  const repositories = await listRepositories(organization.id);
  const trends = await repositoryTrends(repositories.map((r) => r.id));
  const schedules = new Map(await Promise.all(repositories.map(async (r) => [r.id, await getRepositorySchedule(r.id)] as const)));
  const canScan = roleAtLeast(role, "member");
  const canAdd = roleAtLeast(role, "admin");
  const github = canAdd ? await connectable(organization.id) : { repositories: null, error: null };
  return (
    <section>
      <h1 className="mb-6 text-2xl font-semibold">Repositories</h1>
      {repositories.length === 0 ? (
        <EmptyState title="No repositories yet">
          {canAdd ? "Add a local checkout or a git URL below, or connect GitHub (see the README's GitHub App setup)." : "Ask an admin of this organization to add one."}
        </EmptyState>
      ) : (
        <ul className="grid gap-3" aria-label="Repositories">
          {repositories.map((repository) => {
            const trend = trends.get(repository.id) ?? [];
            const schedule = schedules.get(repository.id);
            return (
              <li key={repository.id} className="card flex flex-col gap-3 p-4 sm:flex-row sm:items-center">
                <div className="min-w-0 flex-1">
                  <Link href={`/repositories/${repository.id}`} className="font-medium break-all text-sky-700 hover:underline dark:text-sky-400">
                    {repository.name}
                  </Link>
                  <p className="muted mt-1 text-xs">
                    {repository.provider} · last scan{" "}
                    {repository.latestScan ? `${repository.latestScan.status}, ${when(repository.latestScan.createdAt)}` : "never"}
                    {schedule?.enabled && schedule.nextRuns[0] ? ` · next ${when(new Date(schedule.nextRuns[0]))}` : " · no schedule"}
                  </p>
                </div>
                <div className="flex flex-wrap items-center gap-3 text-sm">
                  <span className="text-red-700 dark:text-red-400">{repository.openFindings.error} errors</span>
                  <span className="text-amber-700 dark:text-amber-400">{repository.openFindings.warning} warnings</span>
                  <span className="text-sky-700 dark:text-sky-400">{repository.openFindings.info} info</span>
                  <Sparkline values={trend.map((p) => p.total)} label={`Open findings after the last ${trend.length} scans`} />
                  {canScan ? (
                    <form action={scanNow}>
                      <input type="hidden" name="repositoryId" value={repository.id} />
                      <button type="submit" className="button-secondary px-2 py-1">
                        Scan now
                      </button>
                    </form>
                  ) : null}
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {canAdd && github.repositories ? <GitHubPicker repositories={github.repositories} error={github.error} /> : null}
      {canAdd ? (
        <form action={addRepository} className="card mt-6 grid gap-3 p-4 text-sm sm:grid-cols-[10rem_1fr_auto] sm:items-end" aria-labelledby="add-repository">
          <h2 id="add-repository" className="font-semibold sm:col-span-3">
            Add a repository
          </h2>
          <label className="flex flex-col">
            Source
            <select name="provider" className="input mt-1" defaultValue="local">
              <option value="local">Local path</option>
              <option value="git">Git URL</option>
            </select>
          </label>
          <label className="flex flex-col">
            Path or URL
            <input name="location" required placeholder="/srv/checkouts/app or https://git.example.com/team/app.git" className="input mt-1" />
          </label>
          <button type="submit" className="button-primary">
            Add and scan
          </button>
          <p className="muted text-xs sm:col-span-3">
            Local paths must lie under the folders in <code className="code-inline">POOLGUARD_LOCAL_ROOTS</code>; git URLs are cloned over https or ssh. GitHub
            repositories are connected from the list above once the GitHub App is configured and installed.
          </p>
        </form>
      ) : null}
      <Notice text={notice} />
    </section>
  );
}
