import type { ReactNode } from "react";
import Markdown from "react-markdown";
import remarkGfm from "remark-gfm";
import { highlight } from "./highlight.ts";

// Rule docs and other Markdown, rendered on the server with highlighted code blocks.
// Code fences are highlighted first (async), then react-markdown renders synchronously
// and swaps each fence for its HTML.

const fence = /^```([\w-]*)\n([\s\S]*?)^```$/gm;

export async function MarkdownView({ source, className }: { source: string; className?: string }): Promise<ReactNode> {
  const blocks: string[] = [];
  for (const match of source.matchAll(fence)) blocks.push(await highlight(match[2].replace(/\n$/, ""), match[1] || "text"));
  let index = 0;
  const withPlaceholders = source.replace(fence, () => `\n<!--code:${index++}-->\n`);
  // Alternating Markdown text and code blocks, keyed by their position in the source.
  const parts = withPlaceholders.split(/\n<!--code:(\d+)-->\n/).map((text, i) => ({ key: `${i % 2 ? "code" : "md"}-${i}-${text.length}`, code: i % 2 === 1, text }));
  return (
    <div className={`prose-poolguard ${className ?? ""}`}>
      {parts.map((part) =>
        part.code ? (
          // biome-ignore lint/security/noDangerouslySetInnerHtml: shiki escapes the code it highlights
          <div key={part.key} className="code-block" dangerouslySetInnerHTML={{ __html: blocks[Number(part.text)] }} />
        ) : (
          <Markdown key={part.key} remarkPlugins={[remarkGfm]}>
            {part.text}
          </Markdown>
        ),
      )}
    </div>
  );
}
