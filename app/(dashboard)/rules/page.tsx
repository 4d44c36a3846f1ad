import Link from "next/link";
import { listRules } from "../../../lib/analyzer/rules.ts";
import { requireMember } from "../../../lib/auth/access.ts";
import { SeverityBadge } from "../empty-state.tsx";

export const dynamic = "force-dynamic";

const fixLabels = { safe: "safe fix", unsafe: "unsafe fix", none: "no fix" } as const;

export default async function RulesPage() {
  await requireMember();
  const rules = listRules();
  return (
    <section>
      <h1 className="mb-2 text-2xl font-semibold">Rules</h1>
      <p className="muted mb-6 text-sm">
        {rules.length} rules. Configure severities under <code className="code-inline">rules:</code> in <code className="code-inline">poolguard.yml</code>; suppress
        one finding with <code className="code-inline"># poolguard: ignore[rule-id]</code>.
      </p>
      <ul className="grid gap-3 sm:grid-cols-2">
        {rules.map((rule) => (
          <li key={rule.id} id={rule.id} className="card p-4">
            <div className="flex flex-wrap items-center gap-2">
              <h2 className="font-mono text-base font-semibold break-all">
                <Link href={`/rules/${rule.id}`} className="text-sky-700 hover:underline dark:text-sky-400">
                  {rule.id}
                </Link>
              </h2>
              <SeverityBadge severity={rule.defaultSeverity} />
            </div>
            <p className="mt-2 text-sm">{rule.summary}</p>
            <p className="muted mt-2 text-xs">
              {rule.languages.join(" · ")} · {fixLabels[rule.fix]}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
