import { describe, expect, it } from "vitest";
import { type Effect, GraphBuilder, type Span } from "../../../../lib/analyzer/flow/graph.ts";
import { analyzeResources, verdictFor } from "../../../../lib/analyzer/flow/resource-flow.ts";

// The `absent` effect: on this path the reference holds nothing (`if (!client) return;`,
// the error branch of a callback-style checkout), so an owned value it may point to was
// not acquired here. Released or transferred values keep their fate.

const at = (line: number): Span => ({ start: { line, column: 1 }, end: { line, column: 2 } });
const acquire = (site: number, bind: string): Effect => ({ kind: "acquire", site, bind });
const release = (v: string, line: number): Effect => ({ kind: "release", ref: { var: v }, span: at(line), how: "release" });

describe("absent effect", () => {
  it("a null check's empty side needs no release (let client; if (x) client = ...; if (client) client.release())", () => {
    const b = new GraphBuilder();
    b.branch({ effects: [], span: at(1) }, () => b.add([acquire(1, "client")], at(2)), null);
    b.branch(
      { effects: [], span: at(3) },
      () => b.add([release("client", 4)], at(4)),
      () => b.add([{ kind: "absent", ref: { var: "client" } }], at(3)),
    );
    expect(verdictFor(analyzeResources(b.finish()), 1)).toEqual({ kind: "ok" });
  });

  it("maybe-owned without a check still leaks", () => {
    const b = new GraphBuilder();
    b.branch({ effects: [], span: at(1) }, () => b.add([acquire(1, "client")], at(2)), null);
    b.add([{ kind: "use", ref: { var: "client" }, span: at(3) }], at(3));
    expect(verdictFor(analyzeResources(b.finish()), 1)).toMatchObject({ kind: "leak", normal: true });
  });

  it("does not undo a release or a transfer", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.add([release("s", 2)], at(2));
    b.add([{ kind: "absent", ref: { var: "s" } }], at(3));
    b.add([{ kind: "use", ref: { var: "s" }, span: at(4) }], at(4));
    const result = analyzeResources(b.finish());
    expect(verdictFor(result, 1)).toEqual({ kind: "ok" });
    expect(result.usesAfterRelease.map((u) => u.use.start.line)).toEqual([4]);
  });

  it("clears the owned possibility of a value owned on one joined path and transferred on another", () => {
    const b = new GraphBuilder();
    b.add([acquire(1, "s")], at(1));
    b.branch({ effects: [], span: at(2) }, () => b.add([{ kind: "transfer", ref: { var: "s" }, reason: "passed-unknown-owner", span: at(3) }], at(3)), null);
    // `if (!this.runner) s.release()`: the other side of the check holds nothing.
    b.branch(
      { effects: [], span: at(4) },
      () => b.add([release("s", 5)], at(5)),
      () => b.add([{ kind: "absent", ref: { var: "s" } }], at(4)),
    );
    expect(verdictFor(analyzeResources(b.finish()), 1)).toEqual({ kind: "ok" });
  });
});
