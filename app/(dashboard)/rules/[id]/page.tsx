import Link from "next/link";
import { notFound } from "next/navigation";
import { listRules } from "../../../../lib/analyzer/rules.ts";
import { requireMember } from "../../../../lib/auth/access.ts";
import { MarkdownView } from "../../../../lib/ui/markdown.tsx";
import { SeverityBadge } from "../../empty-state.tsx";

export const dynamic = "force-dynamic";

const fixLabels = { safe: "safe fix", unsafe: "unsafe fix", none: "no automatic fix" } as const;

export default async function RulePage({ params }: { params: Promise<{ id: string }> }) {
  await requireMember();
  const { id } = await params;
  const rule = listRules().find((r) => r.id === id);
  if (!rule) notFound();
  // The doc's own title repeats the rule id shown in the header.
  const body = (rule.docs?.markdown ?? rule.summary).replace(/^# .*\n+/, "");
  return (
    <article>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link href="/rules" className="hover:underline">
          Rules
        </Link>
      </nav>
      <header className="mb-4 flex flex-wrap items-center gap-2">
        <h1 className="font-mono text-xl font-semibold break-all">{rule.id}</h1>
        <SeverityBadge severity={rule.defaultSeverity} />
        <span className="muted text-sm">
          {rule.languages.join(" · ")} · {fixLabels[rule.fix]}
        </span>
      </header>
      <p className="mb-4">{rule.summary}</p>
      <div className="card p-4 sm:p-6">
        <MarkdownView source={body} />
      </div>
      <p className="mt-4 text-sm">
        <Link href={`/findings?rule=${rule.id}`} className="text-sky-700 underline dark:text-sky-400">
          Open findings of this rule
        </Link>
      </p>
    </article>
  );
}
