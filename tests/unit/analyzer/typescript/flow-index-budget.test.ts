import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { buildTypeScriptIndex } from "../../../../lib/analyzer/typescript/build-index.ts";
import { buildFlowIndex } from "../../../../lib/analyzer/typescript/flow/project.ts";
import type { AnalyzeOptions, SourceInput } from "../../../../lib/analyzer/types.ts";

// The project index keeps parsed files only up to a source-size budget and parses the
// others again when a pass needs them (memory on big repositories). Both ways must give
// exactly the same summaries and module types.

const ROOT = new URL("../../../fixtures/typescript/", import.meta.url).pathname;

function sources(dir: string): SourceInput[] {
  const out: SourceInput[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (/\.(ts|tsx|js|mjs|cjs)$/.test(name)) out.push({ path: relative(ROOT, full), text: readFileSync(full, "utf8") });
  }
  return out;
}

const options: AnalyzeOptions = {
  config: { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], source: null },
  enabledRules: new Set(),
} as unknown as AnalyzeOptions;

describe("TypeScript flow index under a memory budget", () => {
  const files = sources(ROOT);
  const index = buildTypeScriptIndex(files, options);

  it("has summaries to compare", () => {
    expect(files.length).toBeGreaterThan(20);
    expect(Object.keys(index.flow?.summaries ?? {}).length).toBeGreaterThan(0);
  });

  it("gives the same summaries and export types when no parsed file is kept", () => {
    const pinned = buildFlowIndex(files, index, options);
    const reparsed = buildFlowIndex(files, index, options, { pinnedSourceBytes: 0 });
    const partly = buildFlowIndex(files, index, options, { pinnedSourceBytes: 20_000 });
    expect(JSON.stringify(reparsed)).toBe(JSON.stringify(pinned));
    expect(JSON.stringify(partly)).toBe(JSON.stringify(pinned));
    expect(JSON.stringify(pinned)).toBe(JSON.stringify(index.flow));
  });

  it("leaves a structured-cloneable index (no proxy left behind)", () => {
    const flow = buildFlowIndex(files, index, options, { pinnedSourceBytes: 0 });
    expect(structuredClone(flow)).toEqual(flow);
  });
});
