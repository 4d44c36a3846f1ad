import type { RuleId } from "../types.ts";

// `poolguard: ignore[rule-a, rule-b]` on the flagged line or the line above;
// bare `poolguard: ignore` for every rule on that line; `poolguard: ignore-file[rule]`
// in the first 20 lines for the whole file. Works in #, // and /* */ comments.
const linePattern = /(?:#|\/\/|\/\*)\s*poolguard:\s*ignore(?!-file)(?:\[([^\]]*)\])?/;
const filePattern = /(?:#|\/\/|\/\*)\s*poolguard:\s*ignore-file(?:\[([^\]]*)\])?/;

export type Suppressions = {
  isSuppressed(rule: RuleId, line: number): boolean;
  /** Unknown ids written in suppression comments, for warnings. */
  unknown: { line: number; id: string }[];
};

function parseIds(list: string | undefined): string[] | "all" {
  if (list === undefined) return "all";
  return list
    .split(",")
    .map((id) => id.trim())
    .filter(Boolean);
}

export function parseSuppressions(lines: readonly string[], knownRules: ReadonlySet<string>): Suppressions {
  const byLine = new Map<number, string[] | "all">();
  const fileWide: string[] | "all" | null = null;
  let file: string[] | "all" | null = fileWide;
  const unknown: { line: number; id: string }[] = [];
  const note = (ids: string[] | "all", line: number) => {
    if (ids === "all") return;
    for (const id of ids) if (!knownRules.has(id)) unknown.push({ line, id });
  };
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    if (!text.includes("poolguard:")) continue;
    const fileMatch = i < 20 ? filePattern.exec(text) : null;
    if (fileMatch) {
      const ids = parseIds(fileMatch[1]);
      note(ids, i + 1);
      file = ids === "all" || file === "all" ? "all" : [...(file ?? []), ...ids];
      continue;
    }
    const match = linePattern.exec(text);
    if (!match) continue;
    const ids = parseIds(match[1]);
    note(ids, i + 1);
    byLine.set(i + 1, ids);
  }
  const covers = (ids: string[] | "all" | null | undefined, rule: string) => ids === "all" || (Array.isArray(ids) && ids.includes(rule));
  return {
    unknown,
    isSuppressed(rule, line) {
      return covers(file, rule) || covers(byLine.get(line), rule) || covers(byLine.get(line - 1), rule);
    },
  };
}
