import { describe, expect, it } from "vitest";
import { type Effect, GraphBuilder, type Span } from "../../../../lib/analyzer/flow/graph.ts";
import { analyzeResources, verdictFor } from "../../../../lib/analyzer/flow/resource-flow.ts";

// The shared control-flow graph and resource dataflow, exercised without a language
// front end: each test lowers a small program by hand, the way a front end would.

const at = (line: number): Span => ({ start: { line, column: 1 }, end: { line, column: 2 } });
const acquire = (site: number, bind: string): Effect => ({ kind: "acquire", site, bind });
const release = (v: string, line: number): Effect => ({ kind: "release", ref: { var: v }, span: at(line), how: "close" });
const use = (v: string, line: number): Effect => ({ kind: "use", ref: { var: v }, span: at(line) });

describe("resource dataflow", () => {
  it("reports a value never released", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.add([use("s", 2)], at(2), { mayThrow: true });
    const result = analyzeResources(b.finish());
    expect(verdictFor(result, 1)).toMatchObject({ kind: "leak", normal: true, exception: true, releases: [] });
  });

  it("a release on the happy path only still leaks when an exception is raised", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.add([use("s", 2)], at(2), { mayThrow: true });
    b.add([release("s", 3)], at(3), { mayThrow: true });
    const result = analyzeResources(b.finish());
    expect(verdictFor(result, 1)).toMatchObject({ kind: "leak", normal: false, exception: true });
  });

  it("a release in finally covers every path, including return from inside the try", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.try({
      body: () => {
        b.add([use("s", 3)], at(3), { mayThrow: true });
        b.branch({ effects: [], span: at(4) }, () => b.return([], at(5)), null);
        b.add([use("s", 6)], at(6), { mayThrow: true });
      },
      handlers: [],
      finally: () => {
        b.add([release("s", 8)], at(8), { mayThrow: true });
      },
    });
    const result = analyzeResources(b.finish());
    expect(verdictFor(result, 1)).toEqual({ kind: "ok" });
  });

  it("awaited work between the acquisition and the try is not covered by the finally", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "conn")], at(1));
    b.add([], at(2), { mayThrow: true }); // await setup()
    b.try({ body: () => b.add([use("conn", 4)], at(4), { mayThrow: true }), handlers: [], finally: () => b.add([release("conn", 6)], at(6)) });
    const result = analyzeResources(b.finish());
    expect(verdictFor(result, 1)).toMatchObject({ kind: "leak", normal: false, exception: true });
  });

  it("an except that catches everything and releases covers the exception path", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.try({
      body: () => b.add([use("s", 3)], at(3), { mayThrow: true }),
      handlers: [{ catchesAll: true, body: () => b.raise([release("s", 5)], at(5)) }],
    });
    b.add([release("s", 7)], at(7));
    expect(verdictFor(analyzeResources(b.finish()), 1)).toEqual({ kind: "ok" });
  });

  it("a typed except lets other exceptions through", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.try({
      body: () => b.add([use("s", 3)], at(3), { mayThrow: true }),
      handlers: [{ catchesAll: false, body: () => b.add([release("s", 5)], at(5)) }],
    });
    b.add([release("s", 7)], at(7));
    expect(verdictFor(analyzeResources(b.finish()), 1)).toMatchObject({ kind: "leak", normal: false, exception: true });
  });

  it("a returned value is transferred, not leaked", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.return([{ kind: "transfer", ref: { var: "s" }, reason: "returned", span: at(2) }], at(2));
    const result = analyzeResources(b.finish());
    expect(verdictFor(result, 1)).toEqual({ kind: "ok" });
    expect(result.sites.get(1)?.transfers).toEqual(["returned"]);
  });

  it("follows aliases: releasing the alias releases the value", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.add([{ kind: "assign", target: "t", source: { var: "s" } }], at(2));
    b.add([release("t", 3)], at(3));
    expect(verdictFor(analyzeResources(b.finish()), 1)).toEqual({ kind: "ok" });
  });

  it("maybe-owned: acquired on one branch only, never released", () => {
    const b = new GraphBuilder();
    b.branch({ effects: [], span: at(1) }, () => b.add([acquire(1, "client")], at(2)), null);
    b.add([use("client", 3)], at(3));
    expect(verdictFor(analyzeResources(b.finish()), 1)).toMatchObject({ kind: "leak", normal: true });
  });

  it("re-acquiring in a loop without releasing overwrites an owned value", () => {
    const b = new GraphBuilder();
    b.loop({ effects: [], span: at(1), mayThrow: true }, () => {
      b.add([acquire(1, "s")], at(2));
      b.add([use("s", 3)], at(3));
    });
    expect(verdictFor(analyzeResources(b.finish()), 1)).toMatchObject({ kind: "overwritten" });
  });

  it("re-acquiring in a loop after releasing is fine", () => {
    const b = new GraphBuilder();
    b.loop({ effects: [], span: at(1) }, () => {
      b.add([acquire(1, "s")], at(2));
      b.add([release("s", 3)], at(3));
    });
    expect(verdictFor(analyzeResources(b.finish()), 1)).toEqual({ kind: "ok" });
  });

  it("a use after the release on every path is a use after close; after a maybe-release it is not", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.add([release("s", 2)], at(2));
    b.add([use("s", 3)], at(3));
    b.add([acquire(2, "t")], at(4));
    b.branch({ effects: [], span: at(5) }, () => b.add([release("t", 6)], at(6)), null);
    b.add([use("t", 7)], at(7));
    b.add([release("t", 8)], at(8));
    const result = analyzeResources(b.finish());
    expect(result.usesAfterRelease.map((u) => u.use.start.line)).toEqual([3]);
  });

  it("a use after the name was rebound to something untracked is not a use after close", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.add([release("s", 2)], at(2));
    b.add([{ kind: "assign", target: "s", source: null }], at(3));
    b.add([use("s", 4)], at(4));
    expect(analyzeResources(b.finish()).usesAfterRelease).toEqual([]);
  });

  it("a parent's release frees its children", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "ds")], at(1));
    b.add([acquire(2, "runner"), { kind: "parent", child: { var: "runner" }, parent: { var: "ds" } }], at(2));
    b.add([use("runner", 3)], at(3), { mayThrow: true });
    b.try({ body: () => b.add([use("runner", 4)], at(4), { mayThrow: true }), handlers: [], finally: () => b.add([release("ds", 5)], at(5)) });
    const result = analyzeResources(b.finish());
    // The use at line 3 can raise before the try: both leak on that path, neither otherwise.
    expect(verdictFor(result, 2)).toMatchObject({ kind: "leak", normal: false, exception: true });
    expect(verdictFor(result, 1)).toMatchObject({ kind: "leak", normal: false, exception: true });
  });

  it("break inside try/finally inside a loop runs the finally", () => {
    const b = new GraphBuilder();
    b.loop({ effects: [], span: at(1) }, () => {
      b.add([acquire(1, "s")], at(2));
      b.try({
        body: () => b.branch({ effects: [], span: at(3) }, () => b.jump("break"), null),
        handlers: [],
        finally: () => b.add([release("s", 5)], at(5)),
      });
    });
    expect(verdictFor(analyzeResources(b.finish()), 1)).toEqual({ kind: "ok" });
  });

  it("a generator abandoned at a yield leaks unless a finally closes", () => {
    const leaky = new GraphBuilder();
    leaky.add([acquire(1, "s")], at(1));
    leaky.try({
      body: () => leaky.yieldPoint([use("s", 3)], at(3)),
      handlers: [{ catchesAll: false, body: () => leaky.add([use("s", 5)], at(5)) }], // except GeneratorExit: s.expunge_all()
    });
    leaky.add([release("s", 6)], at(6));
    expect(verdictFor(analyzeResources(leaky.finish()), 1)).toMatchObject({ kind: "leak", exception: true });

    const fixed = new GraphBuilder();
    fixed.add([acquire(1, "s")], at(1));
    fixed.try({ body: () => fixed.yieldPoint([use("s", 3)], at(3)), handlers: [], finally: () => fixed.add([release("s", 5)], at(5)) });
    expect(verdictFor(analyzeResources(fixed.finish()), 1)).toEqual({ kind: "ok" });
  });

  it("a callback that may never run does not cover the release", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "client")], at(1));
    b.callback(() => b.add([release("client", 3)], at(3)), "may-run");
    expect(verdictFor(analyzeResources(b.finish()), 1)).toMatchObject({ kind: "leak", normal: true });
  });
});
