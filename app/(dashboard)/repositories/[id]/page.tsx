import Link from "next/link";
import { notFound } from "next/navigation";
import { requireMember, roleAtLeast } from "../../../../lib/auth/access.ts";
import { activeScan, getRepositoryInOrganization, getRepositorySettings, listScans, repositoryTrends } from "../../../../lib/db/index.ts";
import { getRepositorySchedule } from "../../../../lib/jobs/index.ts";
import { RuleTrendChart } from "../../../components/sparkline.tsx";
import { EmptyState } from "../../empty-state.tsx";
import { Notice } from "../../notice.tsx";
import { saveFixPullRequestSettings, saveSchedule, scanNow } from "../actions.ts";
import { ConfigEditor } from "./config-editor.tsx";
import { ScanProgress } from "./scan-progress.tsx";
import { fixGroupingLabels, when } from "../../format.ts";

export const dynamic = "force-dynamic";

const fixGroupingOptions = Object.keys(fixGroupingLabels) as (keyof typeof fixGroupingLabels)[];


function duration(ms: number | null): string {
  if (ms == null) return "";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export default async function RepositoryPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ notice?: string }> }) {
  const { organization, role } = await requireMember();
  const { id } = await params;
  const { notice } = await searchParams;
  const repository = await getRepositoryInOrganization(organization.id, id);
  if (!repository) notFound();
  const [scans, trends, active, schedule, settings] = await Promise.all([
    listScans(repository.id, { take: 20 }),
    repositoryTrends([repository.id], 30),
    activeScan(repository.id),
    getRepositorySchedule(repository.id),
    getRepositorySettings(repository.id),
  ]);
  const points = trends.get(repository.id) ?? [];
  const rules = [...new Set(points.flatMap((p) => Object.keys(p.byRule)))].sort();
  const canScan = roleAtLeast(role, "member");
  const canAdmin = roleAtLeast(role, "admin");
  return (
    <section>
      <div className="mb-6 flex flex-wrap items-start gap-3">
        <div className="min-w-0 flex-1">
          <h1 className="text-2xl font-semibold break-all">{repository.name}</h1>
          <p className="muted mt-1 text-sm break-all">
            {repository.provider === "local" ? `Local path ${repository.localPath}` : repository.provider === "git" ? repository.cloneUrl : "GitHub"} ·{" "}
            <Link href={`/findings?repository=${repository.id}`} className="text-sky-700 hover:underline dark:text-sky-400">
              open findings
            </Link>
          </p>
        </div>
        {canScan ? (
          <form action={scanNow}>
            <input type="hidden" name="repositoryId" value={repository.id} />
            <input type="hidden" name="back" value="repository" />
            <button type="submit" className="button-primary">
              Scan now
            </button>
          </form>
        ) : null}
      </div>

      {active ? (
        <div className="mb-6">
          <ScanProgress repositoryId={repository.id} scanId={active.id} initial={{ ...active, findingsCount: 0, error: null }} />
        </div>
      ) : null}

      <h2 className="mb-3 text-lg font-semibold">Open findings over time</h2>
      <div className="card mb-6 p-4">
        <RuleTrendChart points={points} rules={rules} />
      </div>

      <h2 className="mb-3 text-lg font-semibold">Scans</h2>
      {scans.length === 0 ? (
        <EmptyState title="Not scanned yet">{canScan ? "Start one with “Scan now”." : "An admin or member can start one."}</EmptyState>
      ) : (
        <ul className="card mb-6 divide-y divide-slate-100 text-sm dark:divide-slate-800" aria-label="Scans">
          {scans.map((scan) => (
            <li key={scan.id} className="flex flex-wrap gap-x-4 gap-y-1 px-4 py-3">
              <span className="w-24 font-medium">{scan.status}</span>
              <span className="muted w-24">{scan.trigger}</span>
              <span className="muted">{when(scan.createdAt)}</span>
              {scan.commitSha ? <code className="muted text-xs">{scan.commitSha.slice(0, 7)}</code> : null}
              <span className="sm:ml-auto">
                {scan.status === "succeeded" ? (
                  <Link href={`/findings?repository=${repository.id}&status=any`} className="text-sky-700 hover:underline dark:text-sky-400">
                    {scan.findingsCount} findings
                  </Link>
                ) : (
                  (scan.error ?? "")
                )}{" "}
                {scan.status === "succeeded" ? `in ${scan.filesScanned} files, ${duration(scan.durationMs)}` : ""}
              </span>
            </li>
          ))}
        </ul>
      )}

      <h2 className="mb-3 text-lg font-semibold">Settings</h2>
      <div className="grid gap-4 lg:grid-cols-2">
        <form action={saveSchedule} className="card space-y-3 p-4 text-sm" aria-labelledby="schedule">
          <h3 id="schedule" className="font-semibold">
            Schedule
          </h3>
          <input type="hidden" name="repositoryId" value={repository.id} />
          <label className="flex items-center gap-2">
            <input type="checkbox" name="enabled" defaultChecked={schedule.enabled} disabled={!canAdmin} className="size-4" /> Scan on a schedule
          </label>
          <label className="flex flex-col">
            Cron (UTC; empty for the daily default)
            <input name="cron" defaultValue={schedule.cron} disabled={!canAdmin} className="input mt-1 font-mono" />
          </label>
          <p className="muted">
            {schedule.description}.{" "}
            {schedule.enabled && schedule.nextRuns.length > 0 ? `Next: ${schedule.nextRuns.map((r) => when(new Date(r))).join(", ")}.` : "Not scheduled."}
          </p>
          {canAdmin ? (
            <button type="submit" className="button-primary">
              Save schedule
            </button>
          ) : null}
        </form>
        <form action={saveFixPullRequestSettings} className="card space-y-3 p-4 text-sm" aria-labelledby="fix-prs">
          <h3 id="fix-prs" className="font-semibold">
            Fix pull requests
          </h3>
          <input type="hidden" name="repositoryId" value={repository.id} />
          <label className="flex flex-col">
            Grouping
            <select name="grouping" defaultValue={settings.fixPrGrouping} disabled={!canAdmin} className="input mt-1">
              {fixGroupingOptions.map((g) => (
                <option key={g} value={g}>
                  {fixGroupingLabels[g]}
                </option>
              ))}
            </select>
          </label>
          <label className="flex flex-col">
            Most open at once
            <input name="maxOpen" type="number" min={1} max={50} defaultValue={settings.maxOpenFixPrs} disabled={!canAdmin} className="input mt-1 w-24" />
          </label>
          <p className="muted">
            {repository.provider === "github"
              ? "“Open fix PR” puts the safe fixes of the picked findings into pull requests grouped this way; a pull request already open for a group is updated."
              : "Fix pull requests are opened on GitHub repositories only."}
          </p>
          {canAdmin ? (
            <button type="submit" className="button-primary">
              Save fix pull request settings
            </button>
          ) : null}
        </form>
        <div className="card p-4 lg:col-span-2">
          <ConfigEditor repositoryId={repository.id} initial={settings.configYaml ?? ""} canEdit={canAdmin} />
          <p className="muted mt-2 text-xs">
            Turn rules off or change their severity under <code className="code-inline">rules:</code> (off, info, warning, error).
          </p>
        </div>
      </div>
      <Notice text={notice} />
    </section>
  );
}
