import type { TransferReason } from "../../flow/graph.ts";
import type { SyntaxNode } from "../parse.ts";
import type { PySummary } from "./index-types.ts";
import { type LoweredFunction, paramCallPrefix } from "./lower.ts";
import type { ModuleResolver } from "./resolve.ts";

// What calling a project function does to resources, read off its lowered graph in
// summary mode (parameters enter as owned pseudo-resources): which parameters it
// releases on every path, which it keeps (stores, hands to an owner, captures), whether
// it returns or yields a fresh resource, and whether it is a context manager, a
// generator or memoised.

const keeps: readonly TransferReason[] = ["stored-field", "stored-container", "passed-owner", "passed-unknown-owner", "captured", "exit-stack"];
const memoDecorators = /^(functools\.)?(lru_cache|cache|cached_property|cached|memoize|memoized|alru_cache)$|(^|\.)(lru_cache|cache|alru_cache)$/;

export function summarize(l: LoweredFunction, r: ModuleResolver): PySummary {
  const result = l.result;
  const releasesParams: number[] = [];
  const takesParams: number[] = [];
  for (const site of l.sites) {
    if (site.param === null) continue;
    const report = result.sites.get(site.id);
    if (!report) continue;
    if (report.transfers.some((t) => keeps.includes(t))) takesParams.push(site.param);
    else if (report.releases.length > 0 && !report.leaksOnNormalExit) releasesParams.push(site.param);
  }
  const fresh = (id: number): boolean => {
    const site = l.sites[id];
    if (!site || site.param !== null || site.managed) return false;
    // `with sqlite3.connect(p) as conn: return conn`: that `with` only ends a transaction, the caller gets an open connection.
    if (site.how !== "call" && !(site.how === "with" && site.facts.withKeepsOpen)) return false;
    const report = result.sites.get(id);
    // Stored in a module global or on an object before being returned: shared, not fresh.
    return !(report?.transfers.some((t) => keeps.includes(t)) ?? false);
  };
  let returnsFresh: string | null = null;
  let returnsType: string | null = null;
  let freshReturns = 0;
  let freshElement: number | undefined;
  for (const ret of l.returns) {
    const site = ret.sites.find(fresh);
    if (site !== undefined) {
      returnsFresh ??= l.sites[site].type;
      freshReturns++;
      freshElement ??= tupleElement(ret.node, l.sites[site]);
    } else if (ret.val.k === "type") {
      // A borrowed session or connection handed back (a parameter, a field) tells callers nothing.
      const facts = r.facts(ret.val.type);
      if (!facts || facts.rule === "engine-per-call") returnsType ??= ret.val.type;
      // A registry built by this very call (`return scoped_session(maker)`): the caller owns it.
      const owned = r.typeModel(ret.val.type)?.perCallOwned;
      if (owned && madeHere(l, ret.node)) {
        returnsFresh ??= owned;
        freshReturns++;
      }
    }
  }
  // `def current() -> Session: return self._factory()`: the annotation says what an opaque call returns.
  if (!returnsFresh) {
    const annotated = r.annotationType(l.fn.childForFieldName("return_type"));
    const facts = annotated ? r.facts(annotated) : null;
    if (annotated && facts && (facts.rule === "session-not-closed" || facts.rule === "connection-not-closed")) {
      const callReturns = l.returns.filter((ret) => returnedCall(ret.node));
      if (callReturns.length > 0 && callReturns.length === l.returns.length) {
        returnsFresh = annotated;
        freshReturns = l.returns.length;
      }
    }
  }
  // `return f()` / `return throttle(f)` on some path: callers get what their callable returns.
  let returnsCallOf: number | undefined;
  for (const ret of l.returns) {
    if (ret.val.k !== "unknown" || !ret.val.name.startsWith(paramCallPrefix) || !returnsCallResult(l, ret.node)) continue;
    returnsCallOf ??= Number(ret.val.name.slice(paramCallPrefix.length));
  }
  let yieldsFresh: string | null = null;
  let yieldsType: string | null = null;
  for (const y of l.yields) {
    const site = y.sites.map((s) => l.sites[s]).find((s) => s && s.param === null);
    if (site) {
      yieldsType ??= site.type;
      if (!site.managed && site.how === "call") yieldsFresh ??= site.type;
    } else if (y.val.k === "type") yieldsType ??= y.val.type;
  }
  if (!yieldsType && l.isGenerator) yieldsType = r.iteratorAnnotationType(l.fn.childForFieldName("return_type"));
  const decorators = l.decorators;
  return {
    returnsFresh,
    alwaysFresh: returnsFresh !== null && freshReturns === l.returns.length,
    returnsType,
    async: l.isAsync,
    releasesParams,
    takesParams,
    invokesParams: l.calledParams.map((index) => ({ index, when: "now" as const })),
    yieldsFresh,
    contextManager: decorators.some((d) => /(^|\.)(async)?contextmanager$/.test(d)),
    memoised: decorators.some((d) => memoDecorators.test(d)),
    generator: l.isGenerator,
    yieldsType,
    entersParams: l.enteredParams,
    params: l.params,
    ...(freshElement !== undefined ? { freshElement } : {}),
    ...(returnsCallOf !== undefined && !returnsFresh ? { returnsCallOf } : {}),
  };
}

/** `return conn, conn.cursor()`: which element of the returned tuple is the site (by its name or its call). */
function tupleElement(statement: SyntaxNode, site: LoweredFunction["sites"][number]): number | undefined {
  const value = statement.namedChildren[0];
  if (value?.type !== "expression_list" && value?.type !== "tuple") return undefined;
  const index = value.namedChildren.findIndex((child) => (site.bind !== null && child.type === "identifier" && child.text === site.bind) || child.id === site.call.id);
  return index >= 0 ? index : undefined;
}

/** The returned value is built in the function: a call, or a local bound only to a call. */
function madeHere(l: LoweredFunction, statement: SyntaxNode): boolean {
  if (returnedCall(statement)) return true;
  const value = statement.namedChildren[0];
  if (value?.type !== "identifier" || l.params.includes(value.text) || l.globals.has(value.text)) return false;
  const body = l.fn.childForFieldName("body");
  const bindings = (body?.descendantsOfType("assignment") ?? []).filter((a) => a.childForFieldName("left")?.text === value.text);
  return bindings.length > 0 && bindings.every((a) => a.childForFieldName("right")?.type === "call");
}

/** `return f(...)`, or `return result` where every binding of `result` in the function is a call. */
function returnsCallResult(l: LoweredFunction, statement: SyntaxNode): boolean {
  if (returnedCall(statement)) return true;
  const value = statement.namedChildren[0];
  if (value?.type !== "identifier") return false;
  const body = l.fn.childForFieldName("body");
  const bindings = (body?.descendantsOfType("assignment") ?? []).filter((a) => a.childForFieldName("left")?.text === value.text);
  const unawaited = (node: SyntaxNode | null) => (node?.type === "await" ? (node.namedChildren[0] ?? null) : node);
  return bindings.length > 0 && bindings.every((a) => unawaited(a.childForFieldName("right"))?.type === "call");
}

function returnedCall(statement: SyntaxNode): boolean {
  let value = statement.namedChildren[0];
  if (value?.type === "await") value = value.namedChildren[0];
  return value?.type === "call";
}
