/**
 * # shared-module-session
 *
 * ## What it does
 * Flags a session instance created at module level (`session = SessionLocal()`,
 * `db = Session(engine)`, or any module-level call the models, the project's
 * summaries or the config say returns a fresh session) and then used from functions.
 * `scoped_session(...)` registries are not sessions: each thread or task gets its own.
 * The same holds for a module global bound late (`global _session` then
 * `_session = Session(bind=engine)` inside `init()`) and read elsewhere, for instance
 * through a class attribute (`_session = _session`); an "already initialised?" test
 * (`if _session:`, `if _session is None:`) alone is not a use.
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
import { finding, isReference, type PythonRule, type PythonRuleContext } from "../context.ts";
import { staticVal } from "../flow/resolve.ts";
import { nodesByKeyword, type SyntaxNode } from "../parse.ts";

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
      if (!returned || returned.noun !== "session" || returned.releaseMethods.includes("remove") || facts?.fresh === false || (facts?.awaited ?? false)) continue;
      const usedInFunctions = ctx.root
        .descendantsOfType("function_definition")
        .some((fn) => fn.descendantsOfType("identifier").some((id) => id.text === left.text && isReference(id)));
      if (!usedInFunctions) continue;
      findings.push(finding(meta.id, statement, `\`${left.text}\` is one session created at import time and shared by every function that uses it; open a session per request or task instead`));
    }
    findings.push(...lateBoundGlobals(ctx));
    return findings;
  },
};

/** Is this a session the call creates fresh (not a registry's, not awaited)? */
function freshSession(ctx: PythonRuleContext, right: SyntaxNode): boolean {
  if (right.type !== "call") return false;
  const fn = right.childForFieldName("function");
  if (!fn) return false;
  const facts = ctx.resolver.callFacts(staticVal(fn, ctx.resolver), fn.text);
  const returned = facts?.returns ? ctx.resolver.facts(facts.returns) : null;
  // A registry (`scoped_session`, ended by remove()) hands each thread its own session.
  return !!returned && returned.noun === "session" && !returned.releaseMethods.includes("remove") && facts?.fresh !== false && !(facts?.awaited ?? false);
}

/** The function a node belongs to (null at module level). */
function enclosingFunction(node: SyntaxNode): SyntaxNode | null {
  for (let p = node.parent; p; p = p.parent) if (p.type === "function_definition") return p;
  return null;
}

/**
 * `global _session` then `_session = Session(bind=engine)` inside `init()`: the same one
 * session for the whole process, bound late. Reported when the global is read anywhere but
 * in a truthiness or `is None` test (the usual "already initialised?" guard).
 */
function lateBoundGlobals(ctx: PythonRuleContext): RawFinding[] {
  const findings: RawFinding[] = [];
  if (!/\bglobal\b/.test(ctx.text)) return findings;
  // Each `global` statement's names, by the function it is directly in: only those
  // functions can bind a global (asking every function for its own statements walked
  // each nested body once per enclosing function).
  const globalsOf = new Map<number, Set<string>>();
  for (const g of nodesByKeyword(ctx.root, ctx.text, "global", ["global_statement"])) {
    const fn = enclosingFunction(g);
    if (!fn) continue;
    const names = globalsOf.get(fn.id) ?? new Set<string>();
    for (const id of g.namedChildren) names.add(id.text);
    globalsOf.set(fn.id, names);
  }
  if (globalsOf.size === 0) return findings;
  for (const fn of nodesByKeyword(ctx.root, ctx.text, "def", ["function_definition"])) {
    const globals = globalsOf.get(fn.id);
    if (!globals || globals.size === 0) continue;
    for (const assignment of fn.descendantsOfType("assignment")) {
      if (enclosingFunction(assignment)?.id !== fn.id) continue;
      const left = assignment.childForFieldName("left");
      const right = assignment.childForFieldName("right");
      const statement = assignment.parent;
      if (left?.type !== "identifier" || !globals.has(left.text) || !right || statement?.type !== "expression_statement") continue;
      if (!freshSession(ctx, right)) continue;
      const name = left.text;
      const read = ctx.root.descendantsOfType("identifier").some((id) => {
        if (id.text !== name || id.id === left.id || !isReference(id)) return false;
        const parent = id.parent;
        if (!parent || parent.type === "global_statement") return false;
        if (parent.type === "assignment" && parent.childForFieldName("left")?.id === id.id) return false;
        // `if _session:` / `if _session is None:` / `not _session`: the initialisation guard.
        if (parent.type === "if_statement" || parent.type === "not_operator") return false;
        if (parent.type === "comparison_operator" && /\bis\s+(not\s+)?None\b/.test(parent.text)) return false;
        return true;
      });
      if (!read) continue;
      findings.push(
        finding(
          meta.id,
          statement,
          `\`${name}\` is one module-global session bound in \`${fn.childForFieldName("name")?.text ?? "?"}()\` and shared by every caller that uses it; open a session per request or task instead`,
        ),
      );
    }
  }
  return findings;
}
