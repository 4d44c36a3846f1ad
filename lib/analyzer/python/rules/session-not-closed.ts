/**
 * # session-not-closed
 *
 * ## What it does
 * Flags a SQLAlchemy session created from a session factory and bound to a local name
 * when some way out of the function (return, raise, falling off the end) leaves it
 * open. Closed on every path means used by `with`/`async with`, or `close()` in a
 * `finally`. A `close()` only on the happy path is still reported: the session is not
 * closed when an exception is raised. Session factories are `Session(...)`,
 * `AsyncSession(...)`, any name bound to `sessionmaker(...)`/`async_sessionmaker(...)`
 * in the repository (followed through imports and re-exports), the conventional names
 * (`SessionLocal`, `*session_factory`, `*session_maker*`, `async_session`) and
 * `sessions.factories` from the config. Ownership moves away (no finding) when the
 * session is returned, yielded, stored on `self`/an attribute or in a container, passed
 * to `ExitStack`/`AsyncExitStack` (`enter_async_context`, `push_async_callback`, …) or to
 * a configured closer (`sessions.closers`).
 *
 * ## Why is this bad?
 * An unclosed session keeps its pooled connection checked out until the garbage
 * collector finds it ("The garbage collector is trying to clean up non-checked-in
 * connection"). Under load the pool runs dry and requests fail (seed 000: every Telegram
 * command leaked a connection).
 *
 * ## Example
 * ```python
 * async def channels_command(update, context):
 *     session = db_session_factory()
 *     result = await session.execute(select(Channel))
 *     await update.message.reply_text(format(result))
 * ```
 *
 * ## Use instead
 * ```python
 * async def channels_command(update, context):
 *     async with db_session_factory() as session:
 *         result = await session.execute(select(Channel))
 *         await update.message.reply_text(format(result))
 * ```
 *
 * ## Fix safety
 * Safe. The fix turns the assignment into `async with factory() as session:` (or `with`
 * in synchronous code or for a synchronous factory) and moves the rest of the block
 * inside, dropping the now-redundant `close()` calls. It is offered only when every use
 * of the session is in that block after the assignment, the name is not rebound, and no
 * multi-line string would be re-indented.
 *
 * ## Options
 * `sessions.factories` adds callables that return sessions; `sessions.closers` adds
 * callables that take ownership and close them.
 */
import type { RawFinding, RuleMeta } from "../../types.ts";
import { classifyCall, describeFunction, factoryCallLines, finding, type PythonRule } from "../context.ts";
import { acquisitions, isPytestFixture, lifetime, redundantCloses, rewriteRestOfBlock, wrapFix } from "../ownership.ts";

export const meta: RuleMeta = {
  id: "session-not-closed",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "safe",
  summary: "A session from a session factory is not closed on every path",
};

const closeMethods = ["close"];

export const rule: PythonRule = {
  meta,
  applies: (text) => /[Ss]ession|factory|maker/.test(text),
  check(ctx) {
    const findings: RawFinding[] = [];
    for (const acq of acquisitions(ctx, factoryCallLines(ctx), (call) => classifyCall(ctx, call)?.kind === "factory")) {
      if (acq.awaited) continue;
      const fn = describeFunction(acq.fn);
      const life = lifetime(ctx, acq, closeMethods);
      // Generators that yield the session belong to session-dependency-not-closed.
      if (life.status === "closed" || life.status === "transferred") continue;
      // pytest runs a fixture's code after `yield` as teardown even when the test fails.
      if (life.status === "happy-path-only" && isPytestFixture(acq.fn)) continue;
      const kind = classifyCall(ctx, acq.call);
      const usesAwait = new RegExp(`await\\s+${acq.name}\\.`).test(fn.node.text);
      const asyncWith = fn.isAsync && (kind?.async === "async" || (kind?.async === "unknown" && usesAwait));
      const header = `${asyncWith ? "async with" : "with"} ${acq.call.text} as ${acq.name}:`;
      const fix = wrapFix(
        `Use \`${asyncWith ? "async with" : "with"} ${acq.call.text} as ${acq.name}:\` so the session is closed on every path`,
        rewriteRestOfBlock(ctx, acq, { header, footer: [], drop: redundantCloses(acq, closeMethods) }),
      );
      const message =
        life.status === "never-closed"
          ? `Session \`${acq.name}\` from \`${acq.call.text}\` is never closed: its connection stays checked out of the pool; use \`${asyncWith ? "async with" : "with"}\``
          : `Session \`${acq.name}\` is closed only on the normal path (line ${life.closeLine}): it is not closed when an exception is raised; use \`${asyncWith ? "async with" : "with"}\` or close it in \`finally\``;
      findings.push(finding(meta.id, acq.statement, message, fix));
    }
    return findings;
  },
};
