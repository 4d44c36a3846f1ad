/**
 * # pool-client-not-released
 *
 * ## What it does
 * Flags a client checked out of a connection pool that is not given back on every
 * path: node-postgres `await pool.connect()`, mysql2 `await pool.getConnection()` /
 * `pool.promise().getConnection()`, generic-pool `await pool.acquire()`, and the
 * callback forms `pool.connect((err, client, done) => ...)` /
 * `pool.getConnection((err, conn) => ...)`. Released on every path means `release()`
 * in a `finally` block, a `using`/`await using` declaration, or a release on every
 * branch including `catch` and early `return`/`throw`. A client that is returned,
 * stored on an object, handed to a function that takes ownership (`resolve`,
 * `register`, ...) or released from a `.finally()`/event callback is not flagged.
 *
 * ## Why is this bad?
 * A client that is not released stays checked out forever. After `max` leaks (10 by
 * default in node-postgres) every `pool.connect()` waits for a client that never comes
 * back and the service hangs. A `release()` on the happy path only leaks one client
 * per failed query, which is exactly when the database is already under stress.
 *
 * ## Example
 * ```ts
 * app.get("/users", async (req, res) => {
 *   const client = await pool.connect();
 *   const { rows } = await client.query("SELECT * FROM users");
 *   client.release();
 *   res.json(rows);
 * });
 * ```
 *
 * ## Use instead
 * ```ts
 * app.get("/users", async (req, res) => {
 *   const client = await pool.connect();
 *   try {
 *     const { rows } = await client.query("SELECT * FROM users");
 *     res.json(rows);
 *   } finally {
 *     client.release();
 *   }
 * });
 * ```
 * For a single query, `pool.query(...)` checks out and releases for you.
 *
 * ## Fix safety
 * Safe. The fix wraps the statements after the checkout, to the end of the block, in
 * `try { ... } finally { client.release(); }` and removes the now-redundant happy-path
 * `release()`. It is offered only when every existing release is a plain statement at
 * the top level of that block (a release inside a branch would run twice, which
 * node-postgres rejects) and never for the callback or `.then()` forms.
 *
 * ## Options
 * `sessions.closers` in the config: functions that take ownership of a client when it
 * is passed to them (matched by their last name segment).
 */
import { ts } from "ts-morph";
import type { RawFinding, RuleMeta } from "../../types.ts";
import { dottedName, methodCall, unwrapTypes, walkNear } from "../ast.ts";
import type { RuleContext } from "../context.ts";
import { closerNames } from "../options.ts";
import { checkAcquisition, checkCallbackAcquisition, isCallbackFunction, type ResourceKind } from "../resource-rule.ts";

export const meta: RuleMeta = {
  id: "pool-client-not-released",
  languages: ["typescript"],
  defaultSeverity: "error",
  fix: "safe",
  summary: "A client checked out of a connection pool is not released on every path",
};

const CHECKOUT_METHODS = new Set(["connect", "getConnection", "acquire"]);

/** Pools are named `*pool*` or built by `Pool`/`createPool`; checkouts call one of three methods. */
export function applies(text: string): boolean {
  return /pool/i.test(text) && /\b(connect|getConnection|acquire)\s*\(/.test(text);
}

export function check(context: RuleContext): RawFinding[] {
  const pools = knownPools(context.sourceFile);
  const kind: ResourceKind = {
    rule: meta.id,
    noun: "pool client",
    verb: "released",
    remedy: "call release() in a finally block",
    spec: {
      // `client.end()` closes a pooled client; pg-pool drops it from the pool on "end".
      methods: new Set(["release", "destroy", "end"]),
      argumentMethods: new Set(["release", "destroy"]),
      helperPattern: /^(release|destroy)|release(Client|Connection)$/i,
      setupMethods: new Set(),
      closers: closerNames(context.options),
    },
    requireAwait: true,
    fixRelease: (name, call) => {
      const found = methodCall(call);
      if (found?.method === "acquire") {
        const receiver = dottedName(found.receiver);
        return receiver && !receiver.includes("()") ? `${receiver}.release(${name});` : null;
      }
      return `${name}.release();`;
    },
  };
  const findings: RawFinding[] = [];
  walkNear(context.sourceFile, /\b(?:connect|getConnection|acquire)\b/g, (node) => {
    const found = methodCall(node);
    if (!found || !CHECKOUT_METHODS.has(found.method) || !isPool(found.receiver, pools)) return true;
    const { call } = found;
    if (call.arguments.length === 0) {
      const result = checkAcquisition(context, call, kind);
      if (result) findings.push(result);
      return true;
    }
    const callback = call.arguments[call.arguments.length - 1];
    if (found.method !== "acquire" && isCallbackFunction(callback)) {
      const result = checkCallbackAcquisition(context, call, callback, kind);
      if (result) findings.push(result);
    }
    return true;
  });
  return findings;
}

/** Names bound to `new Pool(...)`, `createPool(...)`, `mysql.createPool(...)` in this file. */
function knownPools(sourceFile: ts.SourceFile): Set<string> {
  const pools = new Set<string>();
  // Only declarations whose text mentions a Pool (`new Pool(`, `createPool(`) can bind one.
  walkNear(sourceFile, /Pool/g, (node) => {
    let target: string | null = null;
    let value: ts.Expression | undefined;
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
      target = node.name.text;
      value = node.initializer;
    } else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      target = dottedName(node.left);
      value = node.right;
    } else if (ts.isPropertyDeclaration(node) && ts.isIdentifier(node.name)) {
      target = `this.${node.name.text}`;
      value = node.initializer;
    }
    if (target && value && createsPool(value)) pools.add(target);
    return true;
  });
  return pools;
}

function createsPool(value: ts.Expression): boolean {
  const inner = unwrapTypes(value);
  if (ts.isNewExpression(inner)) return /Pool$/.test(dottedName(inner.expression) ?? "");
  if (ts.isCallExpression(inner)) return /createPool$/.test(dottedName(inner.expression) ?? "");
  return false;
}

/** Only receivers that are pools: `pool`, `this.pool`, `db.pool`, `pool.promise()`, or a known pool. */
function isPool(receiver: ts.Expression, pools: ReadonlySet<string>): boolean {
  const name = dottedName(receiver);
  if (name === null) return false;
  if (pools.has(name)) return true;
  const withoutPromise = name.replace(/\.promise\(\)$/, "");
  if (pools.has(withoutPromise)) return true;
  const last = withoutPromise.split(".").pop() ?? "";
  return /pool$/i.test(last);
}
