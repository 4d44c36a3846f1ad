import { describe, expect, it } from "vitest";
import { type Effect, GraphBuilder, type Span } from "../../../../lib/analyzer/flow/graph.ts";
import { analyzeResources, verdictFor } from "../../../../lib/analyzer/flow/resource-flow.ts";

// A lazily acquired value (`acquire` with `lazy`: a TypeORM query runner takes its connection
// on first use) holds nothing until its first use: an exception before that leaks nothing,
// one after it leaks, and a value never released is a leak at the normal exit either way.

const at = (line: number): Span => ({ start: { line, column: 1 }, end: { line, column: 2 } });
const lazy = (site: number, bind: string): Effect => ({ kind: "acquire", site, bind, lazy: true });
const use = (v: string, line: number): Effect => ({ kind: "use", ref: { var: v }, span: at(line) });
const release = (v: string, line: number): Effect => ({ kind: "release", ref: { var: v }, span: at(line), how: "release" });

describe("lazy acquisitions", () => {
  it("a throw before the first use, outside the try, leaks nothing", () => {
    const b = new GraphBuilder();
    b.add([lazy(1, "qr")], at(1));
    b.add([], at(2), { mayThrow: true });
    b.try({ body: () => b.add([use("qr", 4)], at(4), { mayThrow: true }), handlers: [], finally: () => b.add([release("qr", 6)], at(6)) });
    expect(verdictFor(analyzeResources(b.finish()), 1)).toEqual({ kind: "ok" });
  });

  it("a throw after the first use leaks", () => {
    const b = new GraphBuilder();
    b.add([lazy(1, "qr")], at(1));
    b.add([use("qr", 2)], at(2));
    b.add([], at(3), { mayThrow: true });
    b.try({ body: () => b.add([use("qr", 5)], at(5), { mayThrow: true }), handlers: [], finally: () => b.add([release("qr", 7)], at(7)) });
    expect(verdictFor(analyzeResources(b.finish()), 1)).toMatchObject({ kind: "leak", normal: false, exception: true });
  });

  it("the failing first use itself leaks (it connected before it failed)", () => {
    const b = new GraphBuilder();
    b.add([lazy(1, "qr")], at(1));
    b.add([use("qr", 2)], at(2), { mayThrow: true });
    b.add([release("qr", 3)], at(3));
    expect(verdictFor(analyzeResources(b.finish()), 1)).toMatchObject({ kind: "leak", exception: true });
  });

  it("used on one branch only: a later throw still leaks on that branch", () => {
    const b = new GraphBuilder();
    b.add([lazy(1, "qr")], at(1));
    b.branch({ effects: [], span: at(2) }, () => b.add([use("qr", 3)], at(3)), null);
    b.add([], at(4), { mayThrow: true });
    b.add([release("qr", 5)], at(5));
    expect(verdictFor(analyzeResources(b.finish()), 1)).toMatchObject({ kind: "leak", exception: true });
  });

  it("never released is a leak at the normal exit, used or not", () => {
    const b = new GraphBuilder();
    b.add([lazy(1, "qr")], at(1));
    b.add([], at(2), { mayThrow: true });
    expect(verdictFor(analyzeResources(b.finish()), 1)).toMatchObject({ kind: "leak", normal: true, exception: false });
  });
});
