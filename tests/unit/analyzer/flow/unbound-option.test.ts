import { describe, expect, it } from "vitest";
import { type Effect, GraphBuilder, type Span } from "../../../../lib/analyzer/flow/graph.ts";
import { analyzeResources } from "../../../../lib/analyzer/flow/resource-flow.ts";

// Option unboundIsNotAValue (Python names): a name bound on some paths only is unbound on
// the others, so a use after every binding was released is still a use after release.
const at = (line: number): Span => ({ start: { line, column: 1 }, end: { line, column: 2 } });
const acquire = (site: number, bind: string): Effect => ({ kind: "acquire", site, bind });
const release = (v: string, line: number): Effect => ({ kind: "release", ref: { var: v }, span: at(line), how: "close" });
const use = (v: string, line: number): Effect => ({ kind: "use", ref: { var: v }, span: at(line) });

function sessionUsedInOuterExcept(): GraphBuilder {
  // try:
  //     async with factory() as s:   (the call may raise before s is bound)
  //         await s.execute()
  // except Exception:
  //     await s.rollback()
  const b = new GraphBuilder();
  b.try({
    body: () => {
      b.add([], at(2), { mayThrow: true });
      b.add([acquire(1, "s")], at(2));
      b.try({ body: () => b.add([use("s", 3)], at(3), { mayThrow: true }), handlers: [], finally: () => b.add([release("s", 2)], at(2)) });
    },
    handlers: [{ catchesAll: true, body: () => b.add([use("s", 5)], at(5), { mayThrow: true }) }],
  });
  return b;
}

describe("unbound names", () => {
  it("by default a name bound on one path only may hold anything on the other", () => {
    expect(analyzeResources(sessionUsedInOuterExcept().finish()).usesAfterRelease).toEqual([]);
  });

  it("with unboundIsNotAValue the use in the outer except is after the release", () => {
    const result = analyzeResources(sessionUsedInOuterExcept().finish(), { unboundIsNotAValue: true });
    expect(result.usesAfterRelease.map((u) => u.use.start.line)).toEqual([5]);
  });

  it("a rebinding to something untracked still hides the released value", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.add([release("s", 2)], at(2));
    b.branch({ effects: [], span: at(3) }, () => b.add([{ kind: "assign", target: "s", source: null }], at(4)), null);
    b.add([use("s", 5)], at(5));
    expect(analyzeResources(b.finish(), { unboundIsNotAValue: true }).usesAfterRelease).toEqual([]);
  });
});

describe("self assignment", () => {
  it("x = x keeps the value and loses no reference", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "conn")], at(1));
    b.add([{ kind: "assign", target: "conn", source: { var: "conn" } }], at(2));
    b.add([release("conn", 3)], at(3));
    expect(analyzeResources(b.finish()).sites.get(1)).toMatchObject({ overwrittenAt: null, leaksOnNormalExit: false });
  });
});
