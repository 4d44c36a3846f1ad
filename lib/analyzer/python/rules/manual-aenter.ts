/**
 * # manual-aenter
 *
 * ## What it does
 * Flags `await x.__aenter__()` / `x.__enter__()` on a session or connection context
 * manager when the matching `__aexit__`/`__exit__` does not run on every path: in the
 * same function for local context managers (an exit only on the happy path is not
 * enough), and for context managers stored on `self` on the class's close path (`close`,
 * `aclose`, `__aexit__`, `__exit__`, `dispose`, `shutdown`, `stop`, `destroy`, `teardown`,
 * `cleanup`, `disconnect` and the methods they call). The same holds when a small helper
 * does the entering (`async def enter(cm): return await cm.__aenter__()`, then
 * `self.session = await enter(self._cm)`): the caller owes the exit, and the helper itself
 * is not reported. Calling `__aenter__()` on a
 * context manager that is never stored (`get_session().__aenter__()`) is always
 * reported: nothing can exit it. Inside a class's own `__aenter__`, entering an inner
 * context manager and then raising before returning leaks it (`async with` never calls
 * `__aexit__` when `__aenter__` fails); inside `__aexit__`, work that can raise before the
 * inner `__aexit__` (a commit outside `finally`) skips the exit when it raises.
 *
 * ## Why is this bad?
 * The context manager's exit is what closes the session and returns its connection.
 * Without it the connection leaks, and the half-open session is easy to share by
 * mistake, which ends in `IllegalStateChangeError`.
 *
 * ## Example
 * ```python
 * async def _get_db_session(self):
 *     self._db_session = await get_session().__aenter__()
 *     return self._db_session
 * ```
 *
 * ## Use instead
 * ```python
 * async def open(self):
 *     self._stack = contextlib.AsyncExitStack()
 *     self._db_session = await self._stack.enter_async_context(get_session())
 *
 * async def close(self):
 *     await self._stack.aclose()
 * ```
 *
 * ## Fix safety
 * No automatic fix: the right owner of the exit depends on the class's lifecycle.
 * Use `contextlib.AsyncExitStack` (or `ExitStack`) and close it on the close path.
 *
 * ## Options
 * None.
 */
import type { RawFinding, RuleMeta } from "../../types.ts";
import { finding, type PythonRule, type PythonRuleContext } from "../context.ts";
import type { LoweredFunction, SiteInfo } from "../flow/lower.ts";
import { verdictFor } from "../../flow/resource-flow.ts";
import type { SyntaxNode } from "../parse.ts";

export const meta: RuleMeta = {
  id: "manual-aenter",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "none",
  summary: "__aenter__()/__enter__() on a session context manager without a matching exit",
};

const sessionish = /session|connection|conn\b|engine|transaction|db\b|database/i;
const closePath = /^(a?close|__aexit__|__exit__|dispose|shutdown|stop|destroy|teardown|cleanup|disconnect|aclose_\w+|close_\w+)$/;

function enclosingClass(fn: SyntaxNode): SyntaxNode | null {
  for (let p = fn.parent; p; p = p.parent) {
    if (p.type === "class_definition") return p;
    if (p.type === "function_definition") return null;
  }
  return null;
}

function methods(cls: SyntaxNode): Map<string, SyntaxNode> {
  const out = new Map<string, SyntaxNode>();
  for (const member of cls.childForFieldName("body")?.namedChildren ?? []) {
    const def = member.type === "decorated_definition" ? member.childForFieldName("definition") : member;
    const name = def?.type === "function_definition" ? def.childForFieldName("name")?.text : undefined;
    if (def && name) out.set(name, def);
  }
  return out;
}

/** Methods on the class's close path: the close-like ones and every method they call on self. */
function closePathMethods(cls: SyntaxNode): SyntaxNode[] {
  const all = methods(cls);
  const seen = new Set<string>();
  const queue = [...all.keys()].filter((n) => closePath.test(n));
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const def = all.get(name);
    if (!def) continue;
    for (const m of def.text.matchAll(/\bself\.(\w+)\(/g)) if (all.has(m[1]) && !seen.has(m[1])) queue.push(m[1]);
  }
  return [...seen].map((n) => all.get(n)).filter((d): d is SyntaxNode => d !== undefined);
}

function isSessionTarget(ctx: PythonRuleContext, site: SiteInfo): boolean {
  const facts = ctx.resolver.facts(site.type);
  if (facts && facts.rule !== "manual-aenter" && !site.guessed) return true;
  return sessionish.test(site.entered ?? "");
}

function exitName(site: SiteInfo): string {
  return site.facts.releaseMethods[0] ?? "__aexit__";
}

export const rule: PythonRule = {
  meta,
  check(ctx) {
    const findings: RawFinding[] = [];
    for (const fn of ctx.functions()) {
      for (const site of fn.sites) {
        if (site.how === "enter") {
          const f = check(ctx, fn, site);
          if (f) findings.push(f);
        } else if (site.facts.rule === "manual-aenter" && site.how === "call" && site.entered !== null) {
          // A helper entered this fresh context manager and never exits it.
          const verdict = verdictFor(fn.result, site.id);
          if (verdict.kind === "ok") continue;
          findings.push(finding(meta.id, site.statement, `\`${site.entered}\` is entered by a helper and never exited: the session is never closed. Use \`contextlib.AsyncExitStack\``));
        }
      }
      findings.push(...exitSkippedInAexit(ctx, fn));
    }
    return findings;
  },
};

function check(ctx: PythonRuleContext, fn: LoweredFunction, site: SiteInfo) {
  if (!isSessionTarget(ctx, site)) return null;
  const method = exitName(site) === "__aexit__" ? "__aenter__" : "__enter__";
  const exit = exitName(site);
  const stack = method === "__aenter__" ? "AsyncExitStack" : "ExitStack";
  const verdict = verdictFor(fn.result, site.id);
  const inOwnEnter = fn.name === "__aenter__" || fn.name === "__enter__";
  const target = site.entered ?? "";
  // `async def enter(cm): return await cm.__aenter__()`: a helper that enters what it is given
  // hands the exit to its caller, where the finding is reported.
  if (fn.params.includes(target) && !fn.fn.text.includes(`${target}.${exit}(`)) return null;
  if (inOwnEnter) {
    // `async with obj:` never calls obj.__aexit__ when obj.__aenter__ raises.
    if (verdict.kind === "leak" && verdict.exception && site.bind?.startsWith("self.")) {
      return finding(meta.id, site.call, `\`${method}()\` on \`${target}\` is not undone when this \`${fn.name}\` raises afterwards: \`${exit}\` is never called for a failed enter, so the session leaks; exit it in an \`except\` before re-raising, or use \`contextlib.${stack}\``);
    }
    return null;
  }
  if (verdict.kind === "ok") return null;
  if (site.bind === null) {
    return finding(meta.id, site.call, `\`${method}()\` without a matching \`${exit}()\`: the context manager returned by \`${target}\` is never stored, so nothing can call \`${exit}\`; the session is never closed. Use \`contextlib.${stack}\``);
  }
  if (target.startsWith("self.")) {
    const cls = enclosingClass(fn.fn);
    if (!cls) return null;
    const exits = new RegExp(`${target.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.${exit}\\(`);
    if (exits.test(fn.fn.text)) {
      if (verdict.kind !== "leak" || !verdict.normal) return null;
    } else if (closePathMethods(cls).some((m) => exits.test(m.text))) return null;
    return finding(meta.id, site.call, `\`${method}()\` without a matching \`${exit}()\`: no \`${target}.${exit}()\` is reachable from the class's close path; the session is never closed. Use \`contextlib.${stack}\``);
  }
  if (verdict.kind === "leak" && !verdict.normal) {
    return finding(meta.id, site.call, `\`${target}.${exit}()\` does not run when an exception is raised after \`${method}()\`: the session leaks; exit it in \`finally\` or use \`contextlib.${stack}\``);
  }
  return finding(meta.id, site.call, `\`${method}()\` without a matching \`${exit}()\`: no \`${target}.${exit}()\` is reachable; the session is never closed. Use \`contextlib.${stack}\``);
}

/** `async def __aexit__(self, *exc): await self.session.commit(); await self._cm.__aexit__(*exc)`: the commit can skip the exit. */
function exitSkippedInAexit(ctx: PythonRuleContext, fn: LoweredFunction): RawFinding[] {
  if (fn.name !== "__aexit__" && fn.name !== "__exit__") return [];
  const body = fn.fn.childForFieldName("body");
  if (!body) return [];
  const exit = fn.name;
  const out: RawFinding[] = [];
  const statements = body.namedChildren;
  for (let i = 0; i < statements.length; i++) {
    const st = statements[i];
    const m = new RegExp(`^(?:await\\s+)?(self\\.[\\w.]+)\\.${exit}\\(`).exec(st.text.trim());
    const cls = enclosingClass(fn.fn);
    if (!m || !(sessionish.test(m[1]) || cls?.text.includes(`${m[1]}.${exit === "__aexit__" ? "__aenter__" : "__enter__"}(`))) continue;
    // Earlier top-level statements of the method that can raise run before the exit, outside any finally.
    const risky = statements.slice(0, i).find((s) => s.type === "expression_statement" && s.descendantsOfType("call").length > 0);
    if (!risky) continue;
    out.push(finding(meta.id, st, `\`${m[1]}.${exit}()\` is skipped when \`${risky.text.trim().split("\n")[0]}\` raises: the inner session is never closed; call it in \`finally\``));
  }
  void ctx;
  return out;
}
