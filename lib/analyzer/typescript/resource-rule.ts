import { ts } from "ts-morph";
import type { RawFinding, RuleId } from "../types.ts";
import { isAsyncFunction, bindingOf, ownerOf } from "./acquisition.ts";
import { type FunctionLike, isFunctionLike, nodeRange, referencesTo, scopeName } from "./ast.ts";
import type { RuleContext } from "./context.ts";
import { checkLifecycle, type Problem, type ReleaseSpec } from "./lifecycle.ts";
import { tryFinallyFix } from "./try-finally-fix.ts";

// The shared body of the "acquire, then release on every path" rules: find where the
// acquired value goes, run the path analysis, word the finding, offer the try/finally fix.

export interface ResourceKind {
  rule: RuleId;
  /** "pool client", "query runner", ... */
  noun: string;
  /** "released", "ended", "committed or rolled back" */
  verb: string;
  /** What to do about it, for messages: "call release() in a finally block". */
  remedy: string;
  spec: ReleaseSpec;
  /** Only `await`ed results are the resource (a bare call returns a promise). */
  requireAwait: boolean;
  /** The statement for the generated `finally`, or null when this kind has no fix. */
  fixRelease: ((name: string, call: ts.CallExpression, isAsync: boolean) => string | null) | null;
}

export function checkAcquisition(context: RuleContext, call: ts.CallExpression, kind: ResourceKind): RawFinding | null {
  const binding = bindingOf(call);
  const callText = call.expression.getText(context.sourceFile);
  const subject = `The ${kind.noun} from \`${callText}()\``;
  if (binding.kind === "discarded") {
    if (kind.requireAwait && !ts.isAwaitExpression(binding.statement.expression)) return null;
    if (expectsFailure(binding.statement)) return null;
    return finding(context, call, kind, `${subject} is discarded, so it is never ${kind.verb}`, null);
  }
  if (binding.kind === "then") {
    const problem = checkLifecycle({
      name: binding.name,
      anchor: null,
      owner: binding.callback,
      spec: kind.spec,
      endsWithBlock: true,
    });
    return problem ? finding(context, call, kind, describe(subject, kind, problem), null) : null;
  }
  if (binding.kind !== "declared" && binding.kind !== "assigned") return null;
  if (binding.kind === "declared" && castToMongo(binding.declaration)) return null;
  if (binding.kind === "declared" && binding.using) return null;
  if (kind.requireAwait && !isAwaited(call)) return null;
  const owner = ownerOf(binding.statement);
  const ownerBody = ts.isSourceFile(owner) ? owner : owner.body;
  const inOwnerBody = binding.statement.parent === ownerBody;
  const endsWithBlock = binding.kind === "declared" ? binding.blockScoped || inOwnerBody : inOwnerBody;
  const problem = checkLifecycle({
    name: binding.name,
    anchor: binding.statement,
    owner,
    spec: kind.spec,
    endsWithBlock,
  });
  if (!problem) return null;
  let fix = null;
  // A release in a result callback runs later: a finally around the caller would
  // release the client while its query is still running.
  const releaseIsDeferred = problem.kind === "path" && problem.inCallback === true;
  if (binding.kind === "declared" && kind.fixRelease && problem.kind !== "rejection" && !releaseIsDeferred) {
    const releaseStatement = kind.fixRelease(binding.name, call, isAsyncFunction(owner));
    if (releaseStatement) {
      fix = tryFinallyFix({
        path: context.path,
        text: context.text,
        sourceFile: context.sourceFile,
        statement: binding.statement,
        name: binding.name,
        spec: kind.spec,
        releaseStatement,
        description: `Wrap the code after \`${callText}()\` in try/finally and call \`${releaseStatement}\` in the finally block`,
      });
    }
  }
  return finding(context, call, kind, describe(subject, kind, problem), fix);
}

/** Callback style: `pool.connect((err, client, done) => ...)`; `done()`/`client.release()` on every path. */
export function checkCallbackAcquisition(
  context: RuleContext,
  call: ts.CallExpression,
  callback: FunctionLike,
  kind: ResourceKind,
): RawFinding | null {
  const [errorParam, clientParam, doneParam] = callback.parameters;
  if (!clientParam || !ts.isIdentifier(clientParam.name) || !callback.body) return null;
  const errorName = errorParam && ts.isIdentifier(errorParam.name) ? errorParam.name.text : null;
  const doneName = doneParam && ts.isIdentifier(doneParam.name) ? doneParam.name.text : null;
  const useDone = doneName !== null && referencesTo(callback.body, doneName).length > 0;
  // A callback that never uses the client (no `client.query`, no `done`) is waiting for
  // the error (`pool.connect((err, client) => expect(client).to.be(undefined))`).
  const usesClient = referencesTo(callback.body, clientParam.name.text).some(
    (reference) => ts.isPropertyAccessExpression(reference.parent) && reference.parent.expression === reference,
  );
  if (!useDone && !usesClient) return null;
  // `stream.on("end", done)`, `.finally(done)`: the release function itself is handed to
  // something that calls it later (pg-query-stream's documented shape).
  if (useDone && doneName && releaseFunctionHandedOn(callback.body, doneName)) return null;
  const name = useDone && doneName ? doneName : clientParam.name.text;
  const spec: ReleaseSpec = useDone
    ? { ...kind.spec, methods: new Set(["()"]) }
    : kind.spec;
  const problem = checkLifecycle({
    name,
    anchor: null,
    owner: callback,
    spec,
    endsWithBlock: true,
    callbackStyle: true,
    errorName,
    resourceNames: [clientParam.name.text],
  });
  if (!problem) return null;
  const callText = call.expression.getText(context.sourceFile);
  const subject = `The ${kind.noun} passed to the \`${callText}()\` callback`;
  return finding(context, call, kind, describe(subject, kind, problem), null);
}

function releaseFunctionHandedOn(body: ts.Node, doneName: string): boolean {
  return referencesTo(body, doneName).some((reference) => {
    const parent = reference.parent;
    if (!ts.isCallExpression(parent) && !ts.isNewExpression(parent)) return false;
    return parent.arguments?.some((argument) => argument === reference) ?? false;
  });
}

function isAwaited(call: ts.CallExpression): boolean {
  let node: ts.Node = call.parent;
  while (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isNonNullExpression(node)) node = node.parent;
  return ts.isAwaitExpression(node);
}

function describe(subject: string, kind: ResourceKind, problem: Problem): string {
  switch (problem.kind) {
    case "never":
      return `${subject} is never ${kind.verb}`;
    case "exception":
      return `${subject} is ${kind.verb} only on the normal path: it is not ${kind.verb} when an exception is thrown (line ${problem.line}); ${kind.remedy}`;
    case "rejection":
      return `${subject} is ${kind.verb} only when the promise fulfils, not when it rejects; ${kind.remedy.replace("a finally block", ".finally()")}`;
    case "path":
      return problem.how === "end"
        ? `${subject} is not ${kind.verb} on every path (a path reaches the end of the block at line ${problem.line} without it)`
        : `${subject} is not ${kind.verb} on the path that ${problem.how === "return" ? "returns" : "throws"} at line ${problem.line}`;
  }
}

function finding(
  context: RuleContext,
  call: ts.CallExpression,
  kind: ResourceKind,
  message: string,
  fix: RawFinding["fix"],
): RawFinding {
  return { rule: kind.rule, message, ...nodeRange(context.sourceFile, call), fix, scope: scopeName(call) };
}

export function isCallbackFunction(node: ts.Node | undefined): node is FunctionLike {
  return node !== undefined && isFunctionLike(node) && (ts.isArrowFunction(node) || ts.isFunctionExpression(node));
}

/** `createQueryRunner() as MongoQueryRunner`: MongoDB runners hold no pooled connection. */
function castToMongo(declaration: ts.VariableDeclaration): boolean {
  const init = declaration.initializer;
  const typeText = declaration.type?.getText() ?? (init && ts.isAsExpression(init) ? init.type.getText() : "");
  return /Mongo/.test(typeText);
}

/** `await pool.connect(); throw new Error("expected connect to fail")`: the call is meant to throw. */
function expectsFailure(statement: ts.Statement): boolean {
  const block = statement.parent;
  if (!ts.isBlock(block)) return false;
  const next = block.statements[block.statements.indexOf(statement) + 1];
  return next !== undefined && ts.isThrowStatement(next);
}
