// Language plugins, one entry each. The engine routes files to them by extension and
// loads a plugin only when the repository has files for it: the TypeScript plugin
// brings the TypeScript compiler (~0.4 s to load), which a Python-only scan, the
// `rules` command or the web app's Rules page should not pay for.
// tests/unit/analyzer/engine/plugins.test.ts checks these lists against the plugins.
import type { Language, LanguagePlugin } from "./types.ts";

export type PluginEntry = {
  language: Language;
  /** Extensions (".py") or exact file names ("tsconfig.json") the plugin reads. */
  extensions: readonly string[];
  load: () => Promise<LanguagePlugin>;
};

export const pluginEntries: readonly PluginEntry[] = [
  { language: "python", extensions: [".py"], load: async () => (await import("./python/plugin.ts")).pythonPlugin as LanguagePlugin },
  {
    language: "typescript",
    extensions: [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", "tsconfig.json", "jsconfig.json", "package.json"],
    load: async () => (await import("./typescript/plugin.ts")).typescriptPlugin as LanguagePlugin,
  },
];

const loaded = new Map<Language, Promise<LanguagePlugin>>();

export function loadPlugin(language: Language): Promise<LanguagePlugin> {
  const entry = pluginEntries.find((e) => e.language === language);
  if (!entry) return Promise.reject(new Error(`no plugin for ${language}`));
  let plugin = loaded.get(language);
  if (!plugin) {
    plugin = entry.load();
    loaded.set(language, plugin);
  }
  return plugin;
}

export function loadAllPlugins(): Promise<LanguagePlugin[]> {
  return Promise.all(pluginEntries.map((e) => loadPlugin(e.language)));
}
