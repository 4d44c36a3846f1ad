import { listRules } from "../../../lib/analyzer/rules.ts";
import { requireUser } from "../../../lib/auth/session.ts";
import { SeverityBadge } from "../empty-state.tsx";

export const dynamic = "force-dynamic";

export default async function RulesPage() {
  await requireUser();
  const rules = listRules();
  return (
    <section>
      <h1 className="mb-2 text-2xl font-semibold">Rules</h1>
      <p className="mb-6 text-sm text-slate-600">
        {rules.length} rules. Configure severities under <code className="rounded bg-slate-100 px-1">rules:</code> in{" "}
        <code className="rounded bg-slate-100 px-1">poolguard.yml</code>; suppress one finding with{" "}
        <code className="rounded bg-slate-100 px-1"># poolguard: ignore[rule-id]</code>.
      </p>
      <ul className="space-y-4">
        {rules.map((rule) => (
          <li key={rule.id} id={rule.id} className="rounded-xl border border-slate-200 bg-white p-5">
            <div className="flex flex-wrap items-center gap-3">
              <h2 className="font-mono text-base font-semibold">{rule.id}</h2>
              <SeverityBadge severity={rule.defaultSeverity} />
              <span className="text-xs text-slate-500">{rule.languages.join(" · ")}</span>
              <span className="text-xs text-slate-500">fix: {rule.fix}</span>
            </div>
            <p className="mt-2 text-sm text-slate-800">{rule.summary}</p>
            {rule.docs ? (
              <details className="mt-3 text-sm">
                <summary className="cursor-pointer text-sky-700">Documentation</summary>
                {Object.entries(rule.docs.sections).map(([heading, body]) =>
                  body ? (
                    <div key={heading} className="mt-3">
                      <h3 className="font-semibold">{heading}</h3>
                      <pre className="mt-1 whitespace-pre-wrap font-sans text-slate-700">{body}</pre>
                    </div>
                  ) : null,
                )}
              </details>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
