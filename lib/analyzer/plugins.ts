// Language plugins, one line each. The engine routes files to them by extension.
import type { LanguagePlugin } from "./types.ts";
import { typescriptPlugin } from "./typescript/plugin.ts";

export const plugins: readonly LanguagePlugin[] = [typescriptPlugin as LanguagePlugin];
