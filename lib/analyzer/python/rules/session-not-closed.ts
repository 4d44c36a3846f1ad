/**
 * # session-not-closed
 *
 * ## What it does
 * Flags a session created from a session factory when some way out of the function
 * (return, raise, falling off the end) leaves it open: bound to a name, or never bound
 * at all (`Session().query(User).first()`, a session passed straight into a call). Closed on every path means used by `with`/`async with`, or `close()` in a
 * `finally`. A `close()` only on the happy path is still reported: the session is not
 * closed when an exception is raised. Session factories are `Session(...)`,
 * `AsyncSession(...)`, any name bound to `sessionmaker(...)`/`async_sessionmaker(...)`
 * in the repository (followed through imports, re-exports, module globals bound later in
 * an `init()`, attributes such as `app.state.db_factory` and subscripts such as
 * `context.bot_data["db_session_factory"]`), project subclasses of `Session`, project
 * functions that return a fresh session (`def get_db(): return SessionLocal()`, also
 * `async def` ones once awaited, and functions annotated `-> Session` that return a
 * call), the conventional names (`SessionLocal`, `*session_factory`, `*session_maker*`,
 * `async_session`), `sessions.factories` and `resources:` from the config; a factory run
 * on a worker thread (`await run_in_threadpool(create_session)`, `await
 * asyncio.to_thread(factory)`) hands back what the factory returns. A helper that builds
 * a session, uses it (`db.execute(...)`) and returns it is reported when that work can
 * raise before the `return`: the session has checked out a connection by then. The analysis
 * follows every path through branches, loops, `try`/`except`/`else`/`finally` and `with`
 * blocks, and follows aliases. A release counts when it is `close()` on the session, a
 * project helper that closes its argument on every path, or `await greenlet_spawn(s.close)` /
 * `loop.run_in_executor(None, s.close)`. Ownership moves away (no finding) when the session
 * is returned, stored on `self`/an attribute, a module global or in a container, given to
 * `ExitStack`/`AsyncExitStack` (`enter_async_context`, `push_async_callback(s.close)`, …),
 * to an object constructor (unless that object lives only inside the function: `repo =
 * Repository(session); return repo.list()`), to a project function that keeps it, or to a configured closer
 * (`sessions.closers`). Passing it to any other function is a borrow, not a hand-off, and
 * so is putting it in the call's own `**kwargs` or a local dict passed on with `**`. Given
 * to an object constructor or a container and then closed by the function itself on its
 * normal path (`settings = Settings(session)` ... `session.close()`), it was only lent:
 * the function still owns it, so an exception before that close leaks it.
 * Sessions a generator yields are judged by `session-dependency-not-closed`; an
 * `async for s in get_db(): ... break` that abandons a session generator is reported here.
 * Flask-SQLAlchemy's `db.create_scoped_session()`, and a project helper that builds a new
 * `scoped_session(...)` on every call and returns it (`def create_scoped_session(): return
 * scoped_session(maker)`), give the caller a registry that nothing else removes, so its
 * `remove()` (or `close()`, or `close()` on the one session it hands out) must be in a `finally` too
 * (`db.session`, the app's shared one, is not reported); so does a `scoped_session(maker)`
 * a function builds for itself and neither returns nor stores. A log or metrics call
 * (`logger.info(...)`, `print(...)`, `metrics.counter(...)` whose arguments make no other
 * calls than conversions and small formatting helpers of the module) and a clock read
 * (`time.perf_counter()`) between the acquisition and the `try` are not exception paths.
 * A session stored in a field (`self.db = SessionLocal()`) belongs to the object: it is
 * reported when no method of the class closes it, hands it out or passes it on, no close
 * path (`close`, `__exit__`, `dispose`, `teardown`, …) mentions it, and the class has no
 * base class that could. SQLModel's `Session` is SQLAlchemy's.
 *
 * ## Why is this bad?
 * An unclosed session keeps its pooled connection checked out until the garbage
 * collector finds it ("The garbage collector is trying to clean up non-checked-in
 * connection"). Under load the pool runs dry and requests fail: a bot that opens a
 * session per command leaks one connection per command.
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
 * inside, dropping the now-redundant `close()` calls. It is offered only when the library
 * model says the object is a context manager (a session is, a sessionmaker is not), no
 * path hands the session to another owner, every use of the session is in that block
 * after the assignment, the name is not rebound, and no multi-line string would be
 * re-indented. When a `close()` elsewhere (an `except` branch, a nested block) would run
 * a second time, when the code ends the session another way (`invalidate()`), or when the
 * session is an instance of your own subclass of `Session` (which may change how it enters
 * and closes), the fix is marked unsafe. Sessions never bound to a name get no fix.
 *
 * ## Options
 * `sessions.factories` adds callables that return sessions; `sessions.closers` adds
 * callables that take ownership and close them.
 */
import type { ResourceFacts } from "../../flow/models.ts";
import type { RawFinding, RuleMeta } from "../../types.ts";
import { finding, type PythonRule } from "../context.ts";
import { fieldLeaks, firstRelease, leakFix, leaks, withForm } from "../leaks.ts";

export const meta: RuleMeta = {
  id: "session-not-closed",
  languages: ["python"],
  defaultSeverity: "warning",
  fix: "safe",
  summary: "A session from a session factory is not closed on every path",
};

/** A registry (`scoped_session`) rather than a session: ended by `remove()`, no `with`. */
function registry(facts: ResourceFacts): boolean {
  return facts.releaseMethods.includes("remove") && !facts.protocols.includes("with") && !facts.protocols.includes("async-with");
}

export const rule: PythonRule = {
  meta,
  check(ctx) {
    const findings: RawFinding[] = [];
    for (const leak of leaks(ctx, meta.id)) {
      const { site, verdict, report, fn } = leak;
      const form = withForm(site, fn) ?? "with";
      const callText = site.call.text;
      let message: string;
      if (site.facts.noun === "session generator") {
        message = `The session generator \`${callText}\` is abandoned before it finishes (a \`break\` or \`return\` inside the loop): its cleanup does not run and the session stays open; iterate it to the end or wrap it in \`contextlib.aclosing\``;
      } else if (!site.bind) {
        message = `Session from \`${callText}\` is never bound to a name and never closed: its connection stays checked out of the pool; use \`${form} ${callText} as session:\``;
      } else if (verdict.kind === "overwritten") {
        message = `Session \`${site.bind}\` is replaced (line ${verdict.at.start.line}) while still open: the previous session is never closed; close it first or use \`${form}\``;
      } else if (registry(site.facts)) {
        // A scoped_session registry the call owns: no `with` exists for it, `remove()` ends it.
        message =
          report.releases.length === 0
            ? `Scoped session \`${site.bind}\` from \`${callText}\` is never removed: its session and connection stay open; call \`${site.bind}.remove()\` in \`finally\``
            : `Scoped session \`${site.bind}\` is removed only on some paths (line ${firstRelease(report)}): when an exception is raised its session stays open; call \`${site.bind}.remove()\` in \`finally\``;
      } else if (!verdict.normal && report.releases.length === 0 && report.transfers.includes("returned")) {
        message = `Session \`${site.bind}\` is returned to the caller, but when the work done on it before the \`return\` raises it is never closed: the connection it checked out stays out of the pool; close it in an \`except\` that re-raises`;
      } else if (report.releases.length === 0) {
        message = `Session \`${site.bind}\` from \`${callText}\` is never closed: its connection stays checked out of the pool; use \`${form}\``;
      } else if (!verdict.normal) {
        message = `Session \`${site.bind}\` is closed only on the normal path (line ${firstRelease(report)}): it is not closed when an exception is raised; use \`${form}\` or close it in \`finally\``;
      } else {
        message = `Session \`${site.bind}\` is not closed on every path (closed at line ${firstRelease(report)} on some): use \`${form}\` or close it in \`finally\``;
      }
      findings.push(finding(meta.id, site.statement, message, leakFix(ctx, leak, "session")));
    }
    for (const { site, field, className } of fieldLeaks(ctx, meta.id)) {
      const release = site.facts.finallyRelease && !site.facts.finallyRelease.includes("{") ? site.facts.finallyRelease : "close";
      findings.push(
        finding(
          meta.id,
          site.statement,
          `Session from \`${site.call.text}\` is stored in \`${field}\`, and no method of \`${className}\` ever closes it: give the class a \`close()\` (or \`__exit__\`) that calls \`${field}.${release}()\``,
        ),
      );
    }
    return findings;
  },
};
