import Link from "next/link";
import { notFound } from "next/navigation";
import { requireUser } from "../../../../lib/auth/session.ts";
import { getRepository, listScans } from "../../../../lib/db/index.ts";
import { EmptyState } from "../../empty-state.tsx";

export const dynamic = "force-dynamic";

export default async function RepositoryPage({ params }: { params: Promise<{ id: string }> }) {
  const { organization } = await requireUser();
  const { id } = await params;
  const repository = await getRepository(id);
  if (!repository || repository.organizationId !== organization?.id) notFound();
  const scans = await listScans(repository.id, { take: 20 });
  return (
    <section>
      <h1 className="text-2xl font-semibold">{repository.name}</h1>
      <p className="mt-1 mb-6 text-sm text-slate-600 dark:text-slate-400">
        {repository.provider === "local" ? `Local path ${repository.localPath}` : repository.provider} ·{" "}
        <Link href={`/findings?repository=${repository.id}`} className="text-sky-700 hover:underline dark:text-sky-400">
          open findings
        </Link>
      </p>
      <h2 className="mb-3 text-lg font-semibold">Scans</h2>
      {scans.length === 0 ? (
        <EmptyState title="Not scanned yet">
          Scan it from the command line with <code className="code-inline">npm run poolguard -- scan {repository.localPath ?? "."}</code>.
        </EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100 dark:divide-slate-800 card text-sm">
          {scans.map((scan) => (
            <li key={scan.id} className="flex flex-wrap gap-x-4 gap-y-1 px-4 py-3">
              <span className="w-24 font-medium">{scan.status}</span>
              <span className="w-24 text-slate-600 dark:text-slate-400">{scan.trigger}</span>
              <span className="text-slate-600 dark:text-slate-400">{scan.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC</span>
              <span className="sm:ml-auto">
                {scan.findingsCount} findings in {scan.filesScanned} files{scan.durationMs != null ? `, ${scan.durationMs} ms` : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
