import { describe, expect, it } from "vitest";
import { loadPlugin, pluginEntries } from "../../../../lib/analyzer/plugins.ts";
import { listRules, mergeRuleMetas } from "../../../../lib/analyzer/rules.ts";

describe("plugin registry", () => {
  it("lists each plugin's extensions without loading it, and they match the plugin", async () => {
    for (const entry of pluginEntries) {
      const plugin = await loadPlugin(entry.language);
      expect(plugin.language).toBe(entry.language);
      expect([...entry.extensions].sort()).toEqual([...plugin.extensions].sort());
    }
  });

  it("the generated rule registry matches the plugins' rule metadata (run `npm run docs:rules`)", async () => {
    const plugins = await Promise.all(pluginEntries.map((e) => loadPlugin(e.language)));
    expect(listRules().map(({ docs: _docs, ...meta }) => meta)).toEqual(mergeRuleMetas(plugins));
  });

  it("merges a rule implemented per language: all languages, strongest fix", () => {
    const merged = mergeRuleMetas([
      { rules: [{ id: "forbidden-import", languages: ["python"], defaultSeverity: "error", fix: "unsafe", summary: "s" }] },
      { rules: [{ id: "forbidden-import", languages: ["typescript"], defaultSeverity: "error", fix: "safe", summary: "s" }] },
    ] as never);
    expect(merged).toEqual([{ id: "forbidden-import", languages: ["python", "typescript"], defaultSeverity: "error", fix: "safe", summary: "s" }]);
  });
});
