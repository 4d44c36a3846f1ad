import { createHighlighter, type Highlighter } from "shiki";
import { createJavaScriptRegexEngine } from "shiki/engine/javascript";

// Server-side syntax highlighting for code views, diffs and rule docs. One highlighter
// per process (loading grammars costs more than highlighting); the JavaScript regex
// engine avoids loading a WebAssembly regex engine into the server.

const languages = ["python", "typescript", "tsx", "javascript", "jsx", "yaml", "json", "diff", "shellscript", "ini", "toml"] as const;

let highlighter: Promise<Highlighter> | null = null;

function getHighlighter(): Promise<Highlighter> {
  highlighter ??= createHighlighter({ themes: ["github-light", "github-dark"], langs: [...languages], engine: createJavaScriptRegexEngine() });
  return highlighter;
}

const aliases: Record<string, string> = { py: "python", ts: "typescript", js: "javascript", mjs: "javascript", cjs: "javascript", mts: "typescript", cts: "typescript", sh: "shellscript", bash: "shellscript", yml: "yaml" };

/** The highlighter language for a Markdown fence tag or a file path; "text" when unknown. */
export function languageFor(tagOrPath: string): string {
  const key = tagOrPath.includes(".") || tagOrPath.includes("/") ? (tagOrPath.split(".").pop() ?? "") : tagOrPath;
  const lang = aliases[key] ?? key;
  return (languages as readonly string[]).includes(lang) ? lang : "text";
}

/**
 * HTML for a block of code, light and dark themes at once (the page's colour scheme
 * picks one through CSS). `firstLine` numbers the lines; `marked` lines get the
 * `marked` class (the flagged lines of a finding).
 */
export async function highlight(code: string, lang: string, options: { firstLine?: number; marked?: ReadonlySet<number> } = {}): Promise<string> {
  const h = await getHighlighter();
  const firstLine = options.firstLine ?? 1;
  return h.codeToHtml(code, {
    lang: languageFor(lang),
    themes: { light: "github-light", dark: "github-dark" },
    transformers: [
      {
        line(node, line) {
          const number = firstLine + line - 1;
          node.properties["data-line"] = String(number);
          if (options.marked?.has(number)) this.addClassToHast(node, "marked");
        },
      },
    ],
  });
}
