/**
 * # engine-per-call
 *
 * ## What it does
 * Flags `create_engine(...)` / `create_async_engine(...)` inside a function that runs
 * per request or task and never disposes the engine. Module-level engines, app
 * factories (`create_app`, `make_app`, …), lifespan/startup hooks, `__init__`,
 * memoised functions (`@lru_cache`, `@cache`) and functions that return or store the
 * engine are fine.
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
import { finding, describeFunction, type PythonRule } from "../context.ts";
import { acquisitions, lifetime } from "../ownership.ts";

export const meta: RuleMeta = {
  id: "engine-per-call",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "none",
  summary: "An engine (and its pool) created per call and never disposed",
};

const exemptFunctionNames = /^(create_app|make_app|build_app|app_factory|get_app|lifespan|startup|on_startup|init|init_\w*|setup|setup_\w*|main|__init__|configure\w*|get_engine|create_engine\w*|make_engine|engine_from_\w*|run_migrations_\w*|connect_\w*|test_\w*|_?setup_\w*)$/;
const memoised = /^(functools\.)?(lru_cache|cache|cached_property|cached|asynccontextmanager|contextmanager|pytest\.fixture|fixture)$/;

export const rule: PythonRule = {
  meta,
  // One-off command-line scripts create their engine once per process: not per call.
  applies: (text) => /create_(async_)?engine\(/.test(text) && !/__name__\s*==\s*["']__main__["']|^\s*(import|from) (typer|click|argparse)\b/m.test(text),
  check(ctx) {
    const findings: RawFinding[] = [];
    const creations = acquisitions(ctx, /create_(async_)?engine\(/, (call) => /^(\w+\.)*create_(async_)?engine$/.test(call.childForFieldName("function")?.text ?? ""));
    for (const acq of creations) {
      const fn = describeFunction(acq.fn);
      if (exemptFunctionNames.test(fn.name) || fn.decorators.some((d) => memoised.test(d) || /on_event|listens_for|fixture/.test(d))) continue;
      const life = lifetime(ctx, acq, ["dispose"]);
      if (life.status === "closed" || life.status === "transferred") continue;
      if (life.status === "happy-path-only") continue;
      findings.push(
        finding(meta.id, acq.statement, `\`${acq.call.childForFieldName("function")?.text}\` in \`${fn.name}\` creates a new engine and connection pool on every call and never disposes it; create the engine once (module level or app startup)`),
      );
    }
    return findings;
  },
};
