/**
 * # manual-aenter
 *
 * ## What it does
 * Flags `await x.__aenter__()` / `x.__enter__()` on a session or connection context
 * manager when no matching `__aexit__`/`__exit__` on the same object is reachable from
 * the same function or, for objects stored on `self`, anywhere in the class (its
 * `close()` path). Calling `__aenter__()` on a context manager that is never stored
 * (`get_session().__aenter__()`) is always reported: nothing can exit it.
 *
 * ## Why is this bad?
 * The context manager's exit is what closes the session and returns its connection.
 * Without it the connection leaks, and the half-open session is easy to share by
 * mistake (seed 004 ended in `IllegalStateChangeError`).
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
import { classifyCall, finding, nodesOnMatchingLines, type PythonRule } from "../context.ts";
import type { SyntaxNode } from "../parse.ts";

export const meta: RuleMeta = {
  id: "manual-aenter",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "none",
  summary: "__aenter__()/__enter__() on a session context manager without a matching exit",
};

const sessionish = /session|connection|conn\b|engine|transaction|db\b|database/i;

function enclosing(node: SyntaxNode, type: string): SyntaxNode | null {
  for (let p = node.parent; p; p = p.parent) if (p.type === type) return p;
  return null;
}

export const rule: PythonRule = {
  meta,
  applies: (text) => /\.__a?enter__\(\)/.test(text),
  check(ctx) {
    const findings: RawFinding[] = [];
    for (const call of nodesOnMatchingLines(ctx, /\.__a?enter__\(\)/, "call")) {
      const fn = call.childForFieldName("function");
      if (fn?.type !== "attribute") continue;
      const method = fn.childForFieldName("attribute")?.text;
      if (method !== "__aenter__" && method !== "__enter__") continue;
      const target = fn.childForFieldName("object");
      if (!target) continue;
      const exit = method === "__aenter__" ? "__aexit__" : "__exit__";
      const isSessionTarget = sessionish.test(target.text) || (target.type === "call" && classifyCall(ctx, target) !== null);
      if (!isSessionTarget) continue;
      // Context-manager classes forwarding their own __aenter__ are not users.
      const ownFunction = enclosing(call, "function_definition");
      const ownName = ownFunction?.childForFieldName("name")?.text;
      if (ownName === "__aenter__" || ownName === "__enter__") continue;
      if (target.type !== "call") {
        const scope = target.text.startsWith("self.") ? enclosing(call, "class_definition") : ownFunction;
        if (scope?.text.includes(`${target.text}.${exit}(`)) continue;
      }
      const what = target.type === "call" ? `the context manager returned by \`${target.text}\` is never stored, so nothing can call \`${exit}\`` : `no \`${target.text}.${exit}()\` is reachable`;
      findings.push(
        finding(meta.id, call, `\`${method}()\` without a matching \`${exit}()\`: ${what}; the session is never closed. Use \`contextlib.${method === "__aenter__" ? "AsyncExitStack" : "ExitStack"}\``),
      );
    }
    return findings;
  },
};
