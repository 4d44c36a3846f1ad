import { requireUser } from "../../../lib/auth/session.ts";
import { getDatabaseInfo } from "../../../lib/db/index.ts";
import packageJson from "../../../package.json" with { type: "json" };

export const dynamic = "force-dynamic";

export default async function SettingsPage() {
  const { user, organization, organizations } = await requireUser();
  const database = getDatabaseInfo();
  const rows: [string, string][] = [
    ["Signed in as", `${user.name} <${user.email}>`],
    ["Organization", organization ? `${organization.name} (${organization.role})` : "none"],
    ["Organizations", String(organizations.length)],
    ["Database", `${database.provider} · ${database.url}`],
    ["Version", packageJson.version],
  ];
  return (
    <section>
      <h1 className="mb-6 text-2xl font-semibold">Settings</h1>
      <dl className="divide-y divide-slate-100 dark:divide-slate-800 card text-sm">
        {rows.map(([term, value]) => (
          <div key={term} className="flex flex-col gap-1 px-4 py-3 sm:flex-row sm:gap-6">
            <dt className="w-40 font-medium text-slate-600 dark:text-slate-400">{term}</dt>
            <dd className="font-mono text-xs leading-5 break-all">{value}</dd>
          </div>
        ))}
      </dl>
      <p className="mt-4 text-sm text-slate-600 dark:text-slate-400">
        Repository settings (schedules, fix pull requests) and GitHub App connection arrive with the GitHub layer.
      </p>
    </section>
  );
}
