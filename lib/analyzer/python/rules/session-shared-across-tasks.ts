/**
 * # session-shared-across-tasks
 *
 * ## What it does
 * Flags one session handed to coroutines that run concurrently: passed into several
 * awaitables of `asyncio.gather(...)`, or running several of them itself
 * (`gather(session.execute(a), session.execute(b))`) (including a generator or comprehension that
 * builds many), or to `asyncio.create_task(...)` / `TaskGroup.create_task(...)` inside a
 * loop or more than once. An argument counts as a session when it is not something that
 * opens a fresh session per call: names bound to functions (`get_session`), factories
 * (`session_factory`, a sessionmaker) or a local function are not shared sessions.
 *
 * ## Why is this bad?
 * An `AsyncSession` is not safe for concurrent use: two tasks interleave on one
 * connection and SQLAlchemy raises `IllegalStateChangeError` ("Method 'close()' can't
 * be called here; method '_connection_for_bind()' is already in progress"),
 * or worse, transactions mix.
 *
 * ## Example
 * ```python
 * results = await asyncio.gather(*(self._search(session, repo) for repo in repos))
 * ```
 *
 * ## Use instead
 * ```python
 * async def search_one(repo):
 *     async with session_factory() as session:
 *         return await self._search(session, repo)
 *
 * results = await asyncio.gather(*(search_one(repo) for repo in repos))
 * ```
 *
 * ## Fix safety
 * No automatic fix: each task needs its own session, which changes transaction scope.
 *
 * ## Options
 * None.
 */
import type { RawFinding, RuleMeta } from "../../types.ts";
import { finding, type PythonRule, type PythonRuleContext } from "../context.ts";
import type { SyntaxNode } from "../parse.ts";

export const meta: RuleMeta = {
  id: "session-shared-across-tasks",
  languages: ["python"],
  defaultSeverity: "error",
  fix: "none",
  summary: "One AsyncSession is used by coroutines that run concurrently",
};

/** `get_session`, `self.open_session`, a local `def`: callables hand each task its own session. */
function opensFreshPerCall(ctx: PythonRuleContext, arg: SyntaxNode): boolean {
  const last = arg.type === "attribute" ? (arg.childForFieldName("attribute")?.text ?? "") : arg.text;
  if (/^_?(get|new|open|create|make|start|acquire)_\w*session/i.test(last)) return true;
  if (arg.type === "identifier") {
    const val = ctx.resolver.name(arg.text);
    if (val.k === "fn" || val.k === "class") return true;
    if (val.k === "type" && ctx.registry.types.get(val.type)?.call) return true;
    const fn = enclosingFunction(arg);
    if (fn?.descendantsOfType("function_definition").some((d) => d.childForFieldName("name")?.text === arg.text)) return true;
  }
  return false;
}

function enclosingFunction(node: SyntaxNode): SyntaxNode | null {
  for (let p = node.parent; p; p = p.parent) if (p.type === "function_definition") return p;
  return null;
}

function sessionArguments(ctx: PythonRuleContext, call: SyntaxNode): string[] {
  const args = call.childForFieldName("arguments");
  if (!args) return [];
  return args.namedChildren
    .flatMap((a) => (a.type === "keyword_argument" ? [a.childForFieldName("value")] : [a]))
    .filter((a): a is SyntaxNode => a !== null && (a.type === "identifier" || a.type === "attribute") && /session/i.test(a.text) && !/maker|factory|_cls$|sessions$/i.test(a.text) && !opensFreshPerCall(ctx, a))
    .map((a) => a.text);
}

/** AsyncSession methods whose awaitable runs statements on the session's connection. */
const ioMethods = /^(?:execute|scalar|scalars|get|get_one|stream|stream_scalars|commit|rollback|flush|refresh|merge|delete|run_sync|connection)$/;

/** `session.execute(...)` as an awaitable: the session itself runs it. */
function sessionReceiver(ctx: PythonRuleContext, call: SyntaxNode): string[] {
  const fn = call.childForFieldName("function");
  if (fn?.type !== "attribute" || !ioMethods.test(fn.childForFieldName("attribute")?.text ?? "")) return [];
  const receiver = fn.childForFieldName("object");
  if (!receiver || (receiver.type !== "identifier" && receiver.type !== "attribute")) return [];
  if (!/session/i.test(receiver.text) || /maker|factory|_cls$|sessions$/i.test(receiver.text) || opensFreshPerCall(ctx, receiver)) return [];
  return [receiver.text];
}

/** Session names passed into the calls that build the awaitables inside `node`, or running them. */
function sessionsPassed(ctx: PythonRuleContext, node: SyntaxNode): string[] {
  const calls = node.type === "call" ? [node, ...node.descendantsOfType("call")] : node.descendantsOfType("call");
  const running = node.type === "call" ? sessionReceiver(ctx, node) : [];
  return [...running, ...calls.flatMap((c) => sessionArguments(ctx, c))];
}

function insideLoop(node: SyntaxNode): boolean {
  for (let p = node.parent; p; p = p.parent) {
    if (p.type === "for_statement" || p.type === "while_statement") return true;
    if (p.type === "function_definition") return false;
  }
  return false;
}

export const rule: PythonRule = {
  meta,
  check(ctx) {
    const findings: RawFinding[] = [];
    const reported = new Set<number>();
    if (!/gather|create_task|ensure_future/.test(ctx.text)) return findings;
    for (const call of ctx.root.descendantsOfType("call")) {
      const callee = call.childForFieldName("function")?.text ?? "";
      const args = call.childForFieldName("arguments");
      if (!args) continue;
      if (/(^|\.)gather$/.test(callee)) {
        const awaitables = args.namedChildren.filter((a) => a.type !== "keyword_argument");
        const counts = new Map<string, number>();
        for (const a of awaitables) {
          const many = a.type === "list_splat" || a.type === "generator_expression" || a.type === "list_comprehension";
          for (const name of new Set(sessionsPassed(ctx, a))) counts.set(name, (counts.get(name) ?? 0) + (many ? 2 : 1));
        }
        for (const [name, count] of counts) {
          if (count < 2 || reported.has(call.id)) continue;
          reported.add(call.id);
          findings.push(finding(meta.id, call, `Session \`${name}\` is passed to coroutines that \`gather\` runs concurrently: an AsyncSession cannot be shared between tasks (IllegalStateChangeError); give each task its own session`));
        }
        continue;
      }
      if (/(^|\.)create_task$/.test(callee) || /(^|\.)ensure_future$/.test(callee)) {
        const names = sessionsPassed(ctx, args);
        if (names.length === 0 || !insideLoop(call)) continue;
        findings.push(finding(meta.id, call, `Session \`${names[0]}\` is passed to a task created in a loop: the tasks run concurrently on one AsyncSession (IllegalStateChangeError); give each task its own session`));
      }
    }
    return findings;
  },
};
