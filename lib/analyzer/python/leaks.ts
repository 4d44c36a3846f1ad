import type { SiteReport, Verdict } from "../flow/resource-flow.ts";
import { leaksOnExceptionAfterUse, verdictFor } from "../flow/resource-flow.ts";
import type { Fix, RuleId, TextEdit } from "../types.ts";
import type { PythonRuleContext } from "./context.ts";
import { type Acquisition, redundantCloses, rewriteRestOfBlock } from "./fixes.ts";
import { isPytestFixture, type LoweredFunction, type SiteInfo } from "./flow/lower.ts";
import { ModuleResolver } from "./flow/resolve.ts";
import { descendantsOf, type SyntaxNode } from "./parse.ts";

// The leak query shared by the lifecycle rules: per acquisition site, the dataflow's
// verdict (leaks on a normal way out, on an exception, overwritten while owned), and the
// fix that is safe by proof: the model says the object supports the protocol the fix
// uses, nothing else owns it on any path, and no path closes it twice.

export type Leak = {
  fn: LoweredFunction;
  site: SiteInfo;
  verdict: Extract<Verdict, { kind: "leak" } | { kind: "overwritten" }>;
  report: SiteReport;
};

/** Sites reported by `rule` that leak, with the exemptions every leak rule shares. */
export function leaks(ctx: PythonRuleContext, rule: RuleId, options: { yielded?: boolean } = {}): Leak[] {
  const out: Leak[] = [];
  for (const fn of ctx.functions()) {
    for (const site of fn.sites) {
      // Unmanaged `with` sites: a `with` whose exit leaves the object open (sqlite3's transaction-only context manager).
      if ((site.how !== "call" && site.how !== "with") || site.managed || site.facts.rule !== rule) continue;
      // Generators that yield the value hand it to a consumer: session-dependency-not-closed judges them.
      const yieldedHere = site.yielded && fn.isGenerator;
      if ((options.yielded ?? false) !== yieldedHere) continue;
      const verdict = verdictFor(fn.result, site.id);
      if (verdict.kind === "ok") continue;
      const report = fn.result.sites.get(site.id);
      if (!report) continue;
      if (verdict.kind === "leak") {
        // pytest runs a fixture's code after `yield` as teardown, also when the test failed.
        if (!verdict.normal && isPytestFixture(fn.fn)) continue;
        // A wrapper that returns the value on every normal path and leaks it only when its own setup raises:
        // the caller never saw it, and CPython frees it with the frame. Not so for a session the setup has
        // already used (`db.execute(...)`, then a failure): an ORM session is freed only by the cycle
        // collector, and until then it keeps the connection it checked out. A wrapper that closes it on
        // some failure path has handled failure; what is left is its cleanup itself raising.
        const usedThenLost =
          site.facts.noun === "session" && report.releases.length === 0 && checksOutConnection(fn, site) && leaksOnExceptionAfterUse(fn.graph, site.id, { unboundIsNotAValue: true });
        if (!verdict.normal && report.transfers.includes("returned") && !usedThenLost) continue;
        // A suspended generator only matters on the paths that abandon it (break / return in the loop).
        if (site.facts.noun === "session generator" && !verdict.normal) continue;
      }
      out.push({ fn, site, verdict, report });
    }
  }
  return out;
}

/** Does the function run SQL on the session (`db.execute(...)`, `db.commit()`), so that it holds a connection? */
function checksOutConnection(fn: LoweredFunction, site: SiteInfo): boolean {
  if (!site.bind) return false;
  const name = site.bind.replace(/[^\w.]/g, "").replaceAll(".", "\\.");
  return new RegExp(`\\b${name}\\.(?:execute|exec|scalars?|query|get|commit|flush|refresh|merge|connection|begin)\\(`).test(fn.fn.text);
}

/** `name = call` / `name = await call` directly in a block: what the block fixes can rewrite. */
export function acquisitionOf(site: SiteInfo, fn: LoweredFunction): Acquisition | null {
  const statement = site.statement;
  if (!site.bind || statement.type !== "expression_statement" || statement.parent?.type !== "block") return null;
  const assignment = statement.namedChildren[0];
  if (assignment?.type !== "assignment" || statement.namedChildren.length !== 1) return null;
  const left = assignment.childForFieldName("left");
  let right = assignment.childForFieldName("right");
  if (right?.type === "await") right = right.namedChildren[0] ?? null;
  if (left?.type !== "identifier" || left.text !== site.bind || right?.id !== site.call.id) return null;
  return { name: site.bind, statement, call: site.call, block: statement.parent, fn: fn.fn };
}

/** Does the function `await name.<something>`? (an AsyncSession in all but name) */
export function awaitsMethods(fn: LoweredFunction, name: string): boolean {
  return new RegExp(`await\\s+${name.replace(/[^\w]/g, "")}\\.`).test(fn.fn.text);
}

/** Which `with` the code should use for this site, or null when the model does not allow one. */
export function withForm(site: SiteInfo, fn: LoweredFunction): "with" | "async with" | null {
  const protocols = site.facts.protocols;
  const flavour = ModuleResolver.sessionFlavour(site.type);
  const wantsAsync =
    site.facts.releaseAwait === "always" || flavour === "async" || (site.facts.releaseAwait === "when-async" && fn.isAsync && site.bind !== null && awaitsMethods(fn, site.bind));
  if (wantsAsync) return fn.isAsync && protocols.includes("async-with") ? "async with" : null;
  return protocols.includes("with") ? "with" : null;
}

/** The statement that releases the site in a `finally` (the model's finallyRelease), or null. */
export function releaseStatement(site: SiteInfo, fn: LoweredFunction): string | null {
  const template = site.facts.finallyRelease;
  if (!template || !site.bind) return null;
  if (template.includes("{")) {
    if (template.includes("{receiver}") && !site.receiver) return null;
    return template.replaceAll("{receiver}", site.receiver ?? "").replaceAll("{name}", site.bind);
  }
  const awaited = site.facts.releaseAwait === "always" || (site.facts.releaseAwait === "when-async" && fn.isAsync && awaitsMethods(fn, site.bind));
  return `${awaited ? "await " : ""}${site.bind}.${template}()`;
}

/** Top-level `pool.release(conn)` / `pool.putconn(conn)` statements after the acquisition. */
function releaseCallStatements(acq: Acquisition, site: SiteInfo): SyntaxNode[] {
  if (!site.receiver) return [];
  const receiver = site.receiver.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^(await\\s+)?${receiver}\\.(release|putconn)\\(\\s*${acq.name}\\s*\\)$`);
  return acq.block.namedChildren.filter((st) => st.startIndex >= acq.statement.endIndex && pattern.test(st.text.trim()));
}

/**
 * The fix for a leaking site: `with`/`async with` when the model lists the protocol and the
 * acquisition is not awaited, else try/finally with the model's release. Safe only when no
 * path hands the value to another owner and every existing release is one the fix drops;
 * otherwise unsafe (a second release would run) or none.
 */
export function leakFix(ctx: PythonRuleContext, leak: Leak, noun: string): Fix | null {
  const { site, fn, report } = leak;
  const acq = acquisitionOf(site, fn);
  if (!acq) return null;
  if (report.transfers.length > 0) return null;
  const releases = [...redundantCloses(acq, site.facts.releaseMethods), ...releaseCallStatements(acq, site)].sort((a, b) => a.startIndex - b.startIndex);
  // The code's first own release in this block ends the new block: the fix holds the resource no longer than the code did.
  const endAt = releases[0];
  const drop = endAt ? [endAt] : [];
  const dropped = (line: number) => drop.some((d) => d.startPosition.row + 1 <= line && line <= d.endPosition.row + 1);
  const doubleClose = report.releases.some((r) => !dropped(r.start.line));
  // The code ends it another way (`session.invalidate()`, `conn.terminate()`): the fix's close is not the same act.
  const droppedMethod = endAt ? /\.(\w+)\s*\([^()]*\)$/.exec(endAt.text.trim())?.[1] : undefined;
  const otherRelease = droppedMethod !== undefined && droppedMethod !== "close" && droppedMethod !== site.facts.finallyRelease && !/^(?:release|putconn)$/.test(droppedMethod);
  // Closing a session detaches the ORM objects it loaded; closing a connection closes its cursors.
  // A helper that may hand back None: the fix's close (or `with`) would then fail where the code did not.
  // A project subclass (`class AppSession(Session)`) may change how it enters, exits or closes;
  // the fixes were proven on the libraries' own classes only.
  const subclass = site.origin === "class";
  const safety: Fix["safety"] = doubleClose || otherRelease || subclass || site.maybeNone === true || derivedEscapes(fn, acq.name, site.facts.noun === "session") ? "unsafe" : "safe";
  const form = site.awaited ? null : withForm(site, fn);
  let edits: TextEdit[] | null = null;
  let description: string;
  if (form) {
    const header = `${form} ${acq.call.text} as ${acq.name}:`;
    edits = rewriteRestOfBlock(ctx, acq, { header, footer: [], drop, endAt });
    description = `Use \`${header.slice(0, -1)}\` so the ${noun} is closed on every path`;
  } else {
    const release = site.facts.protocols.includes("try-finally") ? releaseStatement(site, fn) : null;
    if (!release) return null;
    edits = rewriteRestOfBlock(ctx, acq, {
      header: null,
      opener: "try:",
      footer: [
        { text: "finally:", extraIndent: 0 },
        { text: release, extraIndent: 1 },
      ],
      drop,
      endAt,
    });
    description = `Close \`${acq.name}\` in a \`finally\` block`;
  }
  if (!edits) return null;
  return { safety, description, edits };
}

/** "line N" of the first release, for messages. */
export function firstRelease(report: SiteReport): number | null {
  return report.releases[0]?.start.line ?? null;
}

/** Results a connection hands back already read into memory (safe to use after it closes). */
const materialized = /\.(all|fetchall|fetchone|fetchmany|fetchval|fetchrow|fetch|scalar|scalar_one|scalar_one_or_none|first|one|one_or_none|count|rowcount)\(.*\)(\[[^\]]*\])*$|\.rowcount$/;

/**
 * Does something obtained from the resource (an ORM instance, a lazy result, a cursor)
 * leave the function, returned or stored? Then closing the resource at the end of the
 * function breaks the caller, and a fix that does so is not safe. Values already read
 * into memory (`fetchall()`, `scalar_one()` of a Core query, `count()`) are fine.
 */
export function derivedEscapes(fn: LoweredFunction, name: string, session: boolean): boolean {
  const body = fn.fn.childForFieldName("body");
  if (!body) return false;
  // Core queries (`text(...)`, SQL strings) give plain rows and values; ORM queries give instances bound to the session.
  const coreOnly = !session || !/\.(query|get|merge|refresh)\(|select\(\s*[A-Z]/.test(fn.fn.text);
  const plain = (node: SyntaxNode) => {
    const text = node.text.replace(/^await\s+/, "").trim();
    return /\.count\(\)$/.test(text) || (coreOnly && materialized.test(text));
  };
  const derived = new Set<string>([name]);
  const mentions = (node: SyntaxNode) =>
    (node.type === "identifier" && derived.has(node.text)) || descendantsOf(node, "identifier").some((id) => derived.has(id.text) && id.parent?.type !== "keyword_argument");
  for (let round = 0; round < 2; round++) {
    for (const a of descendantsOf(body, "assignment")) {
      const left = a.childForFieldName("left");
      const right = a.childForFieldName("right");
      if (left?.type !== "identifier" || !right || derived.has(left.text) || !mentions(right) || plain(right)) continue;
      derived.add(left.text);
    }
    for (const loop of descendantsOf(body, "for_statement")) {
      const left = loop.childForFieldName("left");
      const right = loop.childForFieldName("right");
      if (left?.type === "identifier" && right && mentions(right)) derived.add(left.text);
    }
  }
  const escapes = (node: SyntaxNode | null | undefined) => !!node && node.text !== name && mentions(node) && !plain(node);
  if (fn.returns.some((ret) => escapes(ret.node.namedChildren[0]))) return true;
  for (const a of descendantsOf(body, "assignment")) {
    const left = a.childForFieldName("left");
    if ((left?.type === "attribute" || left?.type === "subscript") && escapes(a.childForFieldName("right"))) return true;
  }
  return false;
}

/** A fresh resource stored in a field of `self` that nothing in the class ever releases. */
export type FieldLeak = { fn: LoweredFunction; site: SiteInfo; field: string; className: string };

const plainBases = /^(object|ABC|abc\.ABC|Protocol|typing\.Protocol|Generic\[.*\])$/s;
const closePathNames =
  /^(a?close|__aexit__|__exit__|__del__|dispose|shutdown|stop|destroy|teardown|tearDown|tearDownClass|teardown_method|teardown_class|cleanup|disconnect|release|finish|terminate|aclose_\w+|close_\w+)$/;

function classOf(fn: SyntaxNode): SyntaxNode | null {
  const holder = fn.parent?.type === "decorated_definition" ? fn.parent : fn;
  const block = holder.parent;
  return block?.type === "block" && block.parent?.type === "class_definition" ? block.parent : null;
}

function classMethods(cls: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (const member of cls.childForFieldName("body")?.namedChildren ?? []) {
    const def = member.type === "decorated_definition" ? member.childForFieldName("definition") : member;
    if (def?.type === "function_definition") out.push(def);
  }
  return out;
}

/**
 * `self.session = Session(engine)` in a method of a class that has no method releasing
 * `self.session` (and no close path mentioning it): the object owns a session nobody closes.
 * Only classes whose bases are plain (an inherited close could release it otherwise), and
 * only fields the class never hands out (`return self.session`: the caller may close it).
 */
export function fieldLeaks(ctx: PythonRuleContext, rule: RuleId): FieldLeak[] {
  const out: FieldLeak[] = [];
  for (const fn of ctx.functions()) {
    for (const site of fn.sites) {
      if (site.how !== "call" || site.managed || site.facts.rule !== rule || !site.field) continue;
      // A scoped_session registry kept on an object is meant to live as long as it (each thread's session is removed elsewhere).
      if (site.facts.releaseMethods.includes("remove")) continue;
      const report = fn.result.sites.get(site.id);
      if (!report || report.releases.length > 0 || report.transfers.length !== 1 || report.transfers[0] !== "stored-field") continue;
      const cls = classOf(fn.fn);
      if (!cls) continue;
      const bases = cls.childForFieldName("superclasses")?.namedChildren ?? [];
      if (bases.some((b) => !plainBases.test(b.text))) continue;
      const attr = site.field.slice(site.field.indexOf(".") + 1);
      const escaped = attr.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const releases = [...new Set([...site.facts.releaseMethods, "close", "aclose", "remove", "dispose", "release", "terminate"])].join("|");
      const released = new RegExp(`\\b(?:self|cls|${cls.childForFieldName("name")?.text ?? "_"})\\.${escaped}\\.(?:${releases})\\b`);
      const mentioned = new RegExp(`\\b(?:self|cls)\\.${escaped}\\b`);
      const handedOut = new RegExp(`\\b(?:return|yield)\\s+(?:await\\s+)?(?:self|cls)\\.${escaped}\\s*$`, "m");
      const methods = classMethods(cls);
      // Passed to a call (`close_all(self.conn)`, `stack.callback(self.conn.close)`): that callee may release it.
      const passed = new RegExp(`[(,]\\s*(?:self|cls)\\.${escaped}\\s*[,)]`);
      if (methods.some((m) => released.test(m.text) || handedOut.test(m.text) || passed.test(m.text))) continue;
      if (methods.some((m) => closePathNames.test(m.childForFieldName("name")?.text ?? "") && mentioned.test(m.text))) continue;
      // Used as a context manager or handed to something that closes (`closing(self.conn)`, an exit stack).
      if (new RegExp(`\\bwith\\s+[^:\\n]*\\b(?:self|cls)\\.${escaped}\\b|closing\\(\\s*(?:self|cls)\\.${escaped}\\b|enter_(?:async_)?context\\(\\s*(?:self|cls)\\.${escaped}\\b`).test(cls.text)) continue;
      out.push({ fn, site, field: site.field, className: cls.childForFieldName("name")?.text ?? "?" });
    }
  }
  return out;
}
