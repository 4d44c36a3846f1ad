/**
 * # shared-module-session
 *
 * ## What it does
 * Flags a session instance created at module level (`session = SessionLocal()`,
 * `db = Session(engine)`, or any module-level call the models, the project's
 * summaries or the config say returns a fresh session) and then used from functions.
 * `scoped_session(...)` registries are not sessions: each thread or task gets its own.
 *
 * ## Why is this bad?
 * Every request and task shares that one session: one connection, one transaction,
 * one identity map. Under concurrency it corrupts state or raises; after an error it
 * stays in a failed transaction until someone rolls it back.
 *
 * ## Example
 * ```python
 * session = SessionLocal()
 *
 * def get_user(user_id):
 *     return session.get(User, user_id)
 * ```
 *
 * ## Use instead
 * ```python
 * def get_user(user_id):
 *     with SessionLocal() as session:
 *         return session.get(User, user_id)
 * ```
 *
 * ## Fix safety
 * No automatic fix: each caller needs its own session scope.
 *
 * ## Options
 * None.
 */
import type { RawFinding, RuleMeta } from "../../types.ts";
import { finding, isReference, type PythonRule } from "../context.ts";
import { staticVal } from "../flow/resolve.ts";

export const meta: RuleMeta = {
  id: "shared-module-session",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "none",
  summary: "A module-level session instance shared by every caller",
};

export const rule: PythonRule = {
  meta,
  check(ctx) {
    const findings: RawFinding[] = [];
    for (const statement of ctx.root.namedChildren) {
      const assignment = statement.type === "expression_statement" ? statement.namedChildren[0] : null;
      if (assignment?.type !== "assignment") continue;
      const left = assignment.childForFieldName("left");
      const right = assignment.childForFieldName("right");
      if (left?.type !== "identifier" || right?.type !== "call") continue;
      const fn = right.childForFieldName("function");
      if (!fn) continue;
      const facts = ctx.resolver.callFacts(staticVal(fn, ctx.resolver), fn.text);
      const returned = facts?.returns ? ctx.resolver.facts(facts.returns) : null;
      if (!returned || returned.noun !== "session" || facts?.fresh === false || (facts?.awaited ?? false)) continue;
      const usedInFunctions = ctx.root
        .descendantsOfType("function_definition")
        .some((fn) => fn.descendantsOfType("identifier").some((id) => id.text === left.text && isReference(id)));
      if (!usedInFunctions) continue;
      findings.push(finding(meta.id, statement, `\`${left.text}\` is one session created at import time and shared by every function that uses it; open a session per request or task instead`));
    }
    return findings;
  },
};
