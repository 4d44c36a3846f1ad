import { describe, expect, it } from "vitest";
import { buildTypeScriptIndex } from "../../../../lib/analyzer/typescript/build-index.ts";
import { functionsOf } from "../../../../lib/analyzer/typescript/flow/analyze-file.ts";
import { buildFileFacts, emptyFlowIndex, resolverFor } from "../../../../lib/analyzer/typescript/flow/file-facts.ts";
import { lowerFunction } from "../../../../lib/analyzer/typescript/flow/lower.ts";
import { parseSource } from "../../../../lib/analyzer/typescript/parse.ts";
import { typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import type { AnalyzeOptions, SourceInput } from "../../../../lib/analyzer/types.ts";

// Lowering inlines the callbacks a function hands out, and a named closure each time it is
// handed out. A closure that hands out itself (Node's stream clean-up idiom:
// `const cleanup = () => { a.removeListener("error", cleanup); ... }`) was inlined into its
// own body again at every reference, to the inline depth limit: with 8 references the graph
// had 8^8 copies of the body and the project index on Next.js's server code did not finish.
// Sizes here are counted in graph nodes, not timed: a regression fails even on a fast machine.

const options = {
  config: { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], source: null },
  enabledRules: new Set(typescriptPlugin.rules.map((rule) => rule.id)),
} as unknown as AnalyzeOptions;

const emptyIndex = { files: [], configs: [], packages: [], prismaSingletons: [], exports: {} };

/** Graph nodes of every function of the file, lowered the way the analysis lowers them. */
function graphSizes(text: string): number[] {
  const sourceFile = parseSource("src/gen.js", text);
  const facts = buildFileFacts("src/gen.js", text, sourceFile, resolverFor(emptyIndex), emptyFlowIndex(), options);
  return functionsOf(sourceFile).map((entry) => lowerFunction(facts, entry.fn, { value: 0 }).graph.nodes.length);
}

function selfReferencing(references: number): string {
  const lines = Array.from({ length: references }, (_, i) => `      stream${i % 2}.removeListener("e${i}", cleanup);`);
  return [
    "export function pipe(stream0, stream1) {",
    '  stream0.on("response", (res) => {',
    "    const cleanup = (err) => {",
    ...lines,
    "      res.destroy(err);",
    "    };",
    '    stream0.once("error", cleanup);',
    '    stream1.once("close", cleanup);',
    "  });",
    "}",
    "",
  ].join("\n");
}

function mutuallyReferencing(references: number): string {
  const to = (name: string) => Array.from({ length: references }, (_, i) => `    emitter.off("e${i}", ${name});`);
  return [
    "export function watch(emitter) {",
    "  const onA = () => {",
    ...to("onB"),
    "  };",
    "  const onB = () => {",
    ...to("onA"),
    "  };",
    '  emitter.on("a", onA);',
    "}",
    "",
  ].join("\n");
}

function recursiveLocal(calls: number): string {
  return ["export function walkAll(node) {", "  function visit(n) {", ...Array.from({ length: calls }, (_, i) => `    if (n.c${i}) visit(n.c${i});`), "  }", "  visit(node);", "}", ""].join(
    "\n",
  );
}

describe("lowering does not inline a function into itself", () => {
  it("keeps a self-referencing listener linear in its references", () => {
    // Small enough to finish without the fix (2^8 copies of the body against 8), so the
    // assertion fails rather than hangs; the index test below uses 8 references.
    const one = Math.max(...graphSizes(selfReferencing(1)));
    const two = Math.max(...graphSizes(selfReferencing(2)));
    expect(two).toBeLessThan(one + 40);
  });

  it("keeps closures that reference each other linear", () => {
    const one = Math.max(...graphSizes(mutuallyReferencing(1)));
    const two = Math.max(...graphSizes(mutuallyReferencing(2)));
    expect(two).toBeLessThan(one + 2 * 40);
  });

  it("keeps a recursive local function linear in its calls", () => {
    const small = Math.max(...graphSizes(recursiveLocal(2)));
    const large = Math.max(...graphSizes(recursiveLocal(6)));
    expect(large).toBeLessThan(small + 4 * 60);
  });

  it("builds the project index on such code", () => {
    const files: SourceInput[] = [{ path: "src/pipe.js", text: `${selfReferencing(8)}\n${mutuallyReferencing(8)}\n${recursiveLocal(8)}` }];
    const started = performance.now();
    buildTypeScriptIndex(files, options);
    // Generous for a loaded machine; before the fix this did not finish in minutes.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe("a release inside a self-referencing clean-up still counts", () => {
  const analyse = (body: string[]) => {
    const text = ['import { Pool } from "pg";', "const pool = new Pool();", "export async function run() {", "  const client = await pool.connect();", ...body, "}", ""].join("\n");
    const files: SourceInput[] = [{ path: "src/run.ts", text }];
    const index = typescriptPlugin.buildIndex(files, options);
    return typescriptPlugin.analyzeFile(files[0], index, options).findings.map((finding) => finding.rule);
  };

  it("is released when the clean-up runs in finally", () => {
    const findings = analyse([
      "  const done = () => {",
      '    client.off("error", done);',
      "    client.release();",
      "  };",
      '  client.on("error", done);',
      "  try {",
      '    await client.query("select 1");',
      "  } finally {",
      "    done();",
      "  }",
    ]);
    expect(findings).not.toContain("pool-client-not-released");
  });

  it("leaks when the clean-up only runs on an event", () => {
    const findings = analyse([
      "  const done = () => {",
      '    client.off("error", done);',
      "    client.release();",
      "  };",
      '  client.on("error", done);',
      '  await client.query("select 1");',
    ]);
    expect(findings).toContain("pool-client-not-released");
  });
});
