import { ruleDocs, ruleMetas } from "./rule-docs.generated.ts";
import type { LanguagePlugin, RuleId, RuleMeta } from "./types.ts";

export type RuleDoc = {
  /** The whole doc header as Markdown. */
  markdown: string;
  /** Sections by heading: "What it does", "Why is this bad?", "Example", ... */
  sections: Record<string, string>;
};

export type RuleInfo = RuleMeta & { docs: RuleDoc | null };

const fixRank = { none: 0, unsafe: 1, safe: 2 } as const;

/**
 * Every rule of every plugin, once each, sorted by id. A rule implemented per language
 * (forbidden-import) lists all its languages and the strongest fix either side offers.
 */
export function mergeRuleMetas(plugins: readonly LanguagePlugin[]): RuleMeta[] {
  const byId = new Map<RuleId, RuleMeta>();
  for (const plugin of plugins) {
    for (const meta of plugin.rules) {
      const known = byId.get(meta.id);
      byId.set(
        meta.id,
        known
          ? { ...known, languages: [...new Set([...known.languages, ...meta.languages])], fix: fixRank[meta.fix] > fixRank[known.fix] ? meta.fix : known.fix }
          : { ...meta, languages: [...meta.languages] },
      );
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * The rules with their docs, from the generated registry (npm run docs:rules), so that
 * listing rules never loads a language plugin. A unit test keeps it in step with the plugins.
 */
export function listRules(): RuleInfo[] {
  return (ruleMetas as readonly RuleMeta[]).map((meta) => ({ ...meta, languages: [...meta.languages], docs: (ruleDocs as Record<string, RuleDoc>)[meta.id] ?? null }));
}
