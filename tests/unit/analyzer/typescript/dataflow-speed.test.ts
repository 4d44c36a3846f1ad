import { describe, expect, it } from "vitest";
import { type Effect, GraphBuilder, type Span } from "../../../../lib/analyzer/flow/graph.ts";
import { analyzeResources, verdictFor } from "../../../../lib/analyzer/flow/resource-flow.ts";

// The resource dataflow keeps, per node, the sites every variable may point to. Long
// generated or bundled functions (Next.js's build code: 2,700 nodes, 370 locals, no
// resource at all) made every join walk every local: 17 s for one function. Variables that
// can never point to an acquired value are left out of the states, and a graph without an
// acquisition is not solved at all. These tests pin down that the answers stay the same.

const at = (line: number): Span => ({ start: { line, column: 1 }, end: { line, column: 2 } });
const acquire = (site: number, bind: string): Effect => ({ kind: "acquire", site, bind });
const assign = (target: string, source: string | null): Effect => ({ kind: "assign", target, source: source === null ? null : { var: source } });
const release = (v: string, line: number): Effect => ({ kind: "release", ref: { var: v }, span: at(line), how: "close" });
const use = (v: string, line: number): Effect => ({ kind: "use", ref: { var: v }, span: at(line) });

/** A loop over `branches` if/else arms, each binding its own untracked locals, around one resource. */
function wideFunction(locals: number, branches: number, releaseAtEnd: boolean) {
  const b = new GraphBuilder();
  b.add([acquire(1, "conn")], at(1));
  b.try({
    body: () => {
      b.loop({ effects: [], span: at(2), mayThrow: true }, () => {
        for (let arm = 0; arm < branches; arm++) {
          b.branch(
            { effects: [], span: at(3 + arm) },
            () => {
              for (let i = 0; i < locals; i++) b.add([assign(`v${arm}_${i}`, i > 0 ? `v${arm}_${i - 1}` : null), use(`v${arm}_${i}`, 3 + arm)], at(3 + arm), { mayThrow: true });
            },
            () => b.add([use("conn", 3 + arm)], at(3 + arm), { mayThrow: true }),
          );
        }
      });
    },
    handlers: [],
    finally: releaseAtEnd ? () => b.add([release("conn", 99)], at(99)) : null,
  });
  return b.finish();
}

describe("dataflow on long functions", () => {
  it("solves a function with thousands of untracked locals quickly", () => {
    const graph = wideFunction(40, 60, true);
    expect(graph.nodes.length).toBeGreaterThan(2_400);
    const started = performance.now();
    const result = analyzeResources(graph);
    // Before: every join walked all 2,400 locals (22 s on this machine); now milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(verdictFor(result, 1)).toEqual({ kind: "ok" });
  });

  it("still sees the leak in the same function without the release", () => {
    const result = analyzeResources(wideFunction(40, 60, false));
    expect(verdictFor(result, 1)).toMatchObject({ kind: "leak", normal: true, exception: true });
  });

  it("answers nothing for a graph without an acquisition", () => {
    const b = new GraphBuilder();
    b.add([assign("a", null), use("a", 1), release("a", 2)], at(1), { mayThrow: true });
    const result = analyzeResources(b.finish());
    expect(result.sites.size).toBe(0);
    expect(result.usesAfterRelease).toEqual([]);
  });

  it("follows a resource through a chain of aliases", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "a")], at(1));
    b.add([assign("b", "a")], at(2));
    b.add([assign("c", "b")], at(3));
    b.add([assign("d", null)], at(4));
    b.add([release("c", 5)], at(5));
    b.add([use("b", 6)], at(6));
    const result = analyzeResources(b.finish());
    expect(verdictFor(result, 1)).toEqual({ kind: "ok" });
    expect(result.usesAfterRelease.map((u) => u.use.start.line)).toEqual([6]);
  });

  it("an alias first bound to something untracked still carries the resource", () => {
    // `let x = null; const conn = open(); x = conn; conn = other; x.close()`.
    const b = new GraphBuilder();
    b.add([assign("x", null)], at(1));
    b.add([acquire(1, "conn")], at(2));
    b.add([assign("x", "conn")], at(3));
    b.add([assign("conn", null)], at(4));
    b.add([release("x", 5)], at(5));
    expect(verdictFor(analyzeResources(b.finish()), 1)).toEqual({ kind: "ok" });
  });
});
