import { plugins } from "./plugins.ts";
import { ruleDocs } from "./rule-docs.generated.ts";
import type { RuleId, RuleMeta } from "./types.ts";

export type RuleDoc = {
  /** The whole doc header as Markdown. */
  markdown: string;
  /** Sections by heading: "What it does", "Why is this bad?", "Example", ... */
  sections: Record<string, string>;
};

export type RuleInfo = RuleMeta & { docs: RuleDoc | null };

/** Every rule of every plugin, once each (forbidden-import spans both languages), sorted by id. */
export function listRules(): RuleInfo[] {
  const byId = new Map<RuleId, RuleMeta>();
  for (const plugin of plugins) {
    for (const meta of plugin.rules) {
      const known = byId.get(meta.id);
      // One rule, one implementation per language (forbidden-import): languages add up,
      // and the strongest fix either side offers is what the rule can offer.
      const fixRank = { none: 0, unsafe: 1, safe: 2 } as const;
      byId.set(
        meta.id,
        known
          ? { ...known, languages: [...new Set([...known.languages, ...meta.languages])], fix: fixRank[meta.fix] > fixRank[known.fix] ? meta.fix : known.fix }
          : meta,
      );
    }
  }
  return [...byId.values()]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((meta) => ({ ...meta, docs: (ruleDocs as Record<string, RuleDoc>)[meta.id] ?? null }));
}
