/**
 * # engine-per-call
 *
 * ## What it does
 * Flags `create_engine(...)` / `create_async_engine(...)` inside a function that runs
 * per request or task and never disposes the engine, including engines obtained from a
 * project wrapper (`def get_engine(): return create_engine(url)` called per request).
 * Module-level engines, app factories (`create_app`, `make_app`, …), lifespan/startup
 * hooks, `__init__`, memoised functions (`@lru_cache`, `@cache`, an engine cached in a
 * module global), command-line entry points (functions run from the
 * `if __name__ == "__main__":` block, `main`, click/typer commands), tests, and functions
 * that return or store the engine are fine, except an accessor without parameters
 * (`def db(): return create_engine(get_url())`) that builds a new engine on every call:
 * it is reported itself, since each of its callers gets a pool of its own (functions named
 * as factories, `make_engine` or `create_db_engine`, are not). The judgement is per function: a file with a
 * `__main__` block or a click/typer import still has its request handlers checked.
 *
 * ## Why is this bad?
 * Every engine owns a connection pool. One engine per call means a new pool per
 * request: connections pile up on the database server and nothing reuses them.
 *
 * ## Example
 * ```python
 * def count_users():
 *     engine = create_engine(DATABASE_URL)
 *     with engine.connect() as conn:
 *         return conn.scalar(text("SELECT count(*) FROM users"))
 * ```
 *
 * ## Use instead
 * ```python
 * engine = create_engine(DATABASE_URL)
 *
 * def count_users():
 *     with engine.connect() as conn:
 *         return conn.scalar(text("SELECT count(*) FROM users"))
 * ```
 *
 * ## Fix safety
 * No automatic fix: where the engine should live is an application decision.
 *
 * ## Options
 * None.
 */
import type { RawFinding, RuleMeta } from "../../types.ts";
import { finding, type PythonRule, type PythonRuleContext } from "../context.ts";
import { leaks } from "../leaks.ts";
import type { LoweredFunction } from "../flow/lower.ts";

export const meta: RuleMeta = {
  id: "engine-per-call",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "none",
  summary: "An engine (and its pool) created per call and never disposed",
};

const exemptFunctionNames =
  /^(create_app|make_app|build_app|app_factory|get_app|lifespan|startup|on_startup|init|init_\w*|setup|setup_\w*|main|_?main|cli|run_cli|__init__|__post_init__|configure\w*|get_engine|create_engine\w*|make_engine|engine_from_\w*|run_migrations_\w*|connect_\w*|test_\w*|_?setup_\w*)$/;
/** Functions whose name says they build something: their callers know each call makes a new engine. */
const factoryNames = /^_?(?:create|make|new|build|open|init|setup|connect|start)(?:_|$)|factory|engine_for/;
const exemptDecorators = /^(functools\.)?(lru_cache|cache|cached_property|cached|asynccontextmanager|contextmanager)$|fixture|on_event|listens_for|lifespan|(^|\.)command$|(^|\.)group$|(^|\.)callback$|^click\.|^typer\./;

/** Functions run from the `if __name__ == "__main__":` block (directly or as `asyncio.run(run())`). */
function mainBlockCalls(ctx: PythonRuleContext): Set<string> {
  const names = new Set<string>();
  for (const statement of ctx.root.namedChildren) {
    if (statement.type !== "if_statement") continue;
    const cond = statement.childForFieldName("condition")?.text ?? "";
    if (!/__name__\s*==\s*["']__main__["']/.test(cond)) continue;
    for (const call of statement.descendantsOfType("call")) {
      const fn = call.childForFieldName("function");
      if (fn?.type === "identifier") names.add(fn.text);
      if (fn?.type === "attribute") names.add(fn.childForFieldName("attribute")?.text ?? "");
    }
  }
  return names;
}

function exempt(fn: LoweredFunction, mainCalls: Set<string>): boolean {
  if (exemptFunctionNames.test(fn.name) || mainCalls.has(fn.name)) return true;
  return fn.decorators.some((d) => exemptDecorators.test(d));
}

export const rule: PythonRule = {
  meta,
  check(ctx) {
    const findings: RawFinding[] = [];
    let mainCalls: Set<string> | null = null;
    for (const leak of leaks(ctx, meta.id)) {
      const { site, fn, verdict, report } = leak;
      mainCalls ??= mainBlockCalls(ctx);
      if (exempt(fn, mainCalls)) continue;
      // Disposed on the happy path, or handed away on some path: not an engine per call.
      if (verdict.kind !== "leak" || !verdict.normal || report.releases.length > 0 || report.transfers.length > 0) continue;
      const callee = site.call.childForFieldName("function")?.text ?? site.callee;
      findings.push(
        finding(meta.id, site.statement, `\`${callee}\` in \`${fn.name}\` creates a new engine and connection pool on every call and never disposes it; create the engine once (module level or app startup)`),
      );
    }
    // An accessor that builds a new engine on every call (`def db(): return create_engine(url())`): every
    // caller gets a pool of its own. Factories named as such (`make_engine`, `create_db_engine`), ones told
    // what to connect to by a parameter, and memoised ones (a decorator, a module global) are fine.
    for (const fn of ctx.functions()) {
      if (fn.isGenerator || fn.returns.length === 0 || fn.params.some((p) => p !== "self" && p !== "cls")) continue;
      mainCalls ??= mainBlockCalls(ctx);
      if (factoryNames.test(fn.name) || exempt(fn, mainCalls)) continue;
      for (const site of fn.sites) {
        if (site.how !== "call" || site.managed || site.facts.rule !== meta.id) continue;
        const report = fn.result.sites.get(site.id);
        if (!report || report.releases.length > 0 || report.transfers.some((t) => t !== "returned")) continue;
        if (!fn.returns.every((r) => r.sites.includes(site.id))) continue;
        const callee = site.call.childForFieldName("function")?.text ?? site.callee;
        findings.push(
          finding(meta.id, site.statement, `\`${fn.name}()\` builds a new engine and connection pool with \`${callee}\` every time it is called, and its callers cannot share one; create the engine once (module level, app startup or a cached accessor)`),
        );
      }
    }
    return findings;
  },
};
