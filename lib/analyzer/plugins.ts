// Language plugins, one line each. The engine routes files to them by extension.
import { pythonPlugin } from "./python/plugin.ts";
import type { LanguagePlugin } from "./types.ts";
import { typescriptPlugin } from "./typescript/plugin.ts";

export const plugins: readonly LanguagePlugin[] = [pythonPlugin as LanguagePlugin, typescriptPlugin as LanguagePlugin];
