/**
 * # query-runner-not-released
 *
 * ## What it does
 * Flags a TypeORM `createQueryRunner()` result that is not `release()`d on every path of
 * the function's control flow: released in a `finally` block, or on every branch including
 * `catch` and early `return`/`throw`. `queryRunner.connect()` and
 * `queryRunner.startTransaction()` right after creation are fine before the `try` (that is
 * TypeORM's documented shape). Also flagged: a runner never bound to a name
 * (`(await ds.createQueryRunner()).query(sql)`, one created in a ternary or as a call
 * argument), one that may or may not be created here (`this.queryRunner ?? ds.createQueryRunner()`)
 * and is released only after the work succeeds, and one kept in a field
 * (`this.runner = ds.createQueryRunner()`) that no method of the class releases.
 * `dataSource.destroy()` releases every runner the data source made. A runner that is
 * returned or handed to an owner is not flagged.
 *
 * ## Why is this bad?
 * A connected query runner holds one connection from the data source's pool until it
 * is released. Forget it on the error path and every failed transaction pins a
 * connection; the pool drains and requests queue until they time out.
 *
 * ## Example
 * ```ts
 * async transfer(from: number, to: number, amount: number) {
 *   const queryRunner = this.dataSource.createQueryRunner();
 *   await queryRunner.connect();
 *   await queryRunner.manager.decrement(Account, { id: from }, "balance", amount);
 *   await queryRunner.manager.increment(Account, { id: to }, "balance", amount);
 *   await queryRunner.release();
 * }
 * ```
 *
 * ## Use instead
 * ```ts
 * async transfer(from: number, to: number, amount: number) {
 *   const queryRunner = this.dataSource.createQueryRunner();
 *   await queryRunner.connect();
 *   try {
 *     await queryRunner.manager.decrement(Account, { id: from }, "balance", amount);
 *     await queryRunner.manager.increment(Account, { id: to }, "balance", amount);
 *   } finally {
 *     await queryRunner.release();
 *   }
 * }
 * ```
 * Or let TypeORM manage it: `await this.dataSource.transaction(async (manager) => ...)`.
 *
 * ## Fix safety
 * Safe. Wraps the statements that use the runner, from the one after `createQueryRunner()`
 * to the last one that needs it, in `try { ... } finally { await queryRunner.release(); }`
 * and drops the redundant happy-path `release()`, keeping the file's indentation and
 * semicolon style. Offered only in `async` functions, only when every existing release is
 * a plain top-level statement of that block, and only when the runner is not handed to
 * anyone on any path.
 *
 * A runner created only when none was given (`const qr = this.queryRunner ??
 * this.dataSource.createQueryRunner()`) and released under the code's own guard
 * (`if (!this.queryRunner) await qr.release()`) gets the same `try`, with that guarded
 * release (and the comment above it) moved into `finally`: the runner is still released
 * only when this function created it. Offered only when every release is guarded that
 * way, the guard reads names and `this` fields without calling anything, and nothing in
 * the block assigns what the guard reads; an unguarded release there would free a runner
 * the caller still uses, so it gets no fix.
 *
 * ## Options
 * `sessions.closers` in the config: functions that take ownership of a query runner.
 * `resources:` adds your own acquire/release pairs.
*/
import { ts } from "ts-morph";
import { verdictFor } from "../../flow/resource-flow.ts";
import type { RawFinding, RuleMeta } from "../../types.ts";
import { isFunctionLike, nodeRange } from "../ast.ts";
import type { RuleContext } from "../context.ts";
import type { SiteResult } from "../flow/analyze-file.ts";
import { fileAnalysis, leakFindings } from "../flow/findings.ts";
import { tryFinallyFix } from "../try-finally-fix.ts";

export const meta: RuleMeta = {
  id: "query-runner-not-released",
  languages: ["typescript"],
  defaultSeverity: "error",
  fix: "safe",
  summary: "A TypeORM query runner is not released on every path",
};

export function check(context: RuleContext): RawFinding[] {
  const findings = leakFindings(context, meta.id, { verb: "released", present: "releases", remedy: "call release() in a finally block" });
  if (findings.every((finding) => finding.fix)) return findings;
  const analysis = fileAnalysis(context);
  const at = (line: number, column: number) => `${line}:${column}`;
  const entries = new Map<string, SiteResult>();
  for (const entry of analysis.sites) {
    if (entry.site.facts.rule !== meta.id || entry.site.field) continue;
    const { start } = nodeRange(context.sourceFile, entry.site.node);
    const key = at(start.line, start.column);
    if (!entries.has(key)) entries.set(key, entry);
  }
  return findings.map((finding) => {
    if (finding.fix) return finding;
    const entry = entries.get(at(finding.start.line, finding.start.column));
    const fix = entry ? conditionalOwnerFix(context, entry) : null;
    return fix ? { ...finding, fix } : finding;
  });
}

/**
 * A runner this function creates only when it was not given one:
 * `const qr = this.queryRunner ?? this.dataSource.createQueryRunner()`, released under the
 * code's own ownership guard (`if (!this.queryRunner) await qr.release()`) only after the
 * work succeeded. The fix moves that guarded release into `finally`; an unguarded release
 * would free a runner the caller still uses, so every release must be guarded.
 */
function conditionalOwnerFix(context: RuleContext, entry: SiteResult) {
  const { site, report } = entry;
  if (site.origin !== "call" || site.declaration || site.bound === null) return null;
  const verdict = verdictFor(entry.result, site.id);
  if (verdict.kind !== "leak" || verdict.normal || verdict.transferred || (report?.transfers.length ?? 0) > 0) return null;
  if (verdict.releases.length === 0) return null;
  let node: ts.Node = site.node;
  while (ts.isParenthesizedExpression(node.parent) || ts.isAwaitExpression(node.parent)) node = node.parent;
  const choice = node.parent;
  if (!ts.isBinaryExpression(choice) || choice.right !== node) return null;
  const op = choice.operatorToken.kind;
  if (op !== ts.SyntaxKind.QuestionQuestionToken && op !== ts.SyntaxKind.BarBarToken) return null;
  // The runner given from outside: a parameter or a field, read without calling anything.
  const given = choice.left;
  const plainGiven = ts.isIdentifier(given) || (ts.isPropertyAccessExpression(given) && given.expression.kind === ts.SyntaxKind.ThisKeyword);
  if (!plainGiven) return null;
  const declaration = choice.parent;
  if (!ts.isVariableDeclaration(declaration) || declaration.initializer !== choice || !ts.isIdentifier(declaration.name)) return null;
  const list = declaration.parent;
  const statement = list.parent;
  if (!ts.isVariableDeclarationList(list) || !ts.isVariableStatement(statement) || list.declarations.length !== 1) return null;
  if ((list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0) return null;
  const owner = site.owner;
  if (!isFunctionLike(owner) || (ts.getCombinedModifierFlags(owner) & ts.ModifierFlags.Async) === 0) return null;
  const name = declaration.name.text;
  return tryFinallyFix({
    path: context.path,
    text: context.text,
    sourceFile: context.sourceFile,
    statement,
    name,
    releases: verdict.releases,
    releaseStatement: `await ${name}.release()`,
    description: `Wrap the code that uses \`${name}\` in try/finally and move the guarded release (the runner is released only when this function created it) into the finally block`,
    guarded: "required",
  });
}
