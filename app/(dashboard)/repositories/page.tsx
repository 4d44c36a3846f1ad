import Link from "next/link";
import { requireUser } from "../../../lib/auth/session.ts";
import { listRepositories } from "../../../lib/db/index.ts";
import { EmptyState } from "../empty-state.tsx";

export const dynamic = "force-dynamic";

export default async function RepositoriesPage() {
  const { organization } = await requireUser();
  const repositories = organization ? await listRepositories(organization.id) : [];
  return (
    <section>
      <h1 className="mb-6 text-2xl font-semibold">Repositories</h1>
      {repositories.length === 0 ? (
        <EmptyState title="No repositories yet">
          Add a local path or connect GitHub (see the README&apos;s GitHub App setup). Until then, scan any checkout with{" "}
          <code className="code-inline">npm run poolguard -- scan path/to/repo</code>.
        </EmptyState>
      ) : (
        <div className="card overflow-x-auto">
        <table className="w-full min-w-[36rem] text-sm">
          <thead className="bg-slate-100 text-left text-slate-600 dark:text-slate-400 dark:bg-slate-800 dark:text-slate-300">
            <tr>
              <th className="px-4 py-2">Repository</th>
              <th className="px-4 py-2">Source</th>
              <th className="px-4 py-2">Last scan</th>
              <th className="px-4 py-2">Open findings</th>
            </tr>
          </thead>
          <tbody>
            {repositories.map((repository) => (
              <tr key={repository.id} className="border-t border-slate-100 dark:border-slate-800">
                <td className="px-4 py-3 font-medium">
                  <Link href={`/repositories/${repository.id}`} className="text-sky-700 hover:underline dark:text-sky-400">
                    {repository.name}
                  </Link>
                </td>
                <td className="px-4 py-3 text-slate-600 dark:text-slate-400">{repository.provider}</td>
                <td className="px-4 py-3 text-slate-600 dark:text-slate-400">
                  {repository.latestScan ? `${repository.latestScan.status}, ${repository.latestScan.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC` : "never scanned"}
                </td>
                <td className="px-4 py-3">
                  <span className="text-red-700">{repository.openFindings.error} errors</span> ·{" "}
                  <span className="text-amber-700">{repository.openFindings.warning} warnings</span> ·{" "}
                  <span className="text-sky-700">{repository.openFindings.info} info</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
    </section>
  );
}
