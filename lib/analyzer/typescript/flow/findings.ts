import { ts } from "ts-morph";
import type { Span } from "../../flow/graph.ts";
import { verdictFor } from "../../flow/resource-flow.ts";
import type { Fix, RawFinding, RuleId } from "../../types.ts";
import { isFunctionLike, nodeRange, scopeName } from "../ast.ts";
import type { RuleContext } from "../context.ts";
import { tryFinallyFix } from "../try-finally-fix.ts";
import { analyzeFile, classOf, type SiteResult } from "./analyze-file.ts";

// The query every "acquire, then release on every path" rule asks of the file's
// dataflow, the wording of its findings and the try/finally fix (safe only by proof).

export type Wording = {
  /** "released", "ended", "committed or rolled back". */
  verb: string;
  /** "releases", "ends", "commits or rolls back". */
  present: string;
  /** "call release() in a finally block". */
  remedy: string;
};

export function fileAnalysis(context: RuleContext) {
  return analyzeFile(context.path, context.text, context.sourceFile, context.index, context.options);
}

export function leakFindings(context: RuleContext, rule: RuleId, wording: Wording): RawFinding[] {
  const findings: RawFinding[] = [];
  const seen = new Set<string>();
  for (const entry of fileAnalysis(context).sites) {
    if (entry.site.facts.rule !== rule) continue;
    const finding = leakFinding(context, entry, wording);
    if (!finding) continue;
    const key = `${finding.start.line}:${finding.start.column}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(finding);
  }
  return findings;
}

function subjectOf(entry: SiteResult): string {
  const { site } = entry;
  const callee = `\`${site.calleeText}()\``;
  if (site.origin === "callback") return `The ${site.facts.noun} passed to the ${callee} callback`;
  if (site.origin === "opens") return `The ${site.facts.noun} ${site.facts.rule === "transaction-not-finished" ? "started" : "opened"} by ${callee}`;
  if (site.origin === "new") return `The ${site.facts.noun} from \`new ${site.calleeText}()\``;
  return `The ${site.facts.noun} from ${callee}`;
}

function leakFinding(context: RuleContext, entry: SiteResult, wording: Wording): RawFinding | null {
  const { site, report, result } = entry;
  const subject = subjectOf(entry);
  const { verb } = wording;
  const line = (span: Span) => span.start.line;
  if (site.field) {
    // `this` outside a class (a test framework's context object): stored on another object.
    if (!classOf(site.owner)) return null;
    if (entry.fieldReleased !== false) return null;
    return finding(context, entry, `${subject} is kept in \`${site.field.split("@")[0]}\`, but no method of the class ${wording.present} it (add a close/destroy method that does, and call it)`, null);
  }
  const verdict = verdictFor(result, site.id);
  if (verdict.kind === "ok") return null;
  if (verdict.kind === "overwritten") {
    return finding(context, entry, `${subject} is acquired again (line ${line(verdict.at)}) while the previous one is still held, so that one is never ${verb}`, null);
  }
  // A factory that hands the value to its caller on every normal path: the caller owns it.
  if (!verdict.normal && verdict.transferred) return null;
  // A script's top level: an uncaught exception there ends the process, and the connection with it.
  if (!verdict.normal && ts.isSourceFile(site.owner)) return null;
  const bound = site.bound !== null || site.origin === "callback" || site.origin === "then" || site.origin === "opens";
  let message: string;
  if (!bound && verdict.releases.length === 0 && !verdict.transferred) message = `${subject} is discarded, so it is never ${verb}`;
  else if (verdict.releases.length === 0 && !verdict.transferred) message = `${subject} is never ${verb}`;
  else if (verdict.normal) {
    message = `${subject} is not ${verb} on every path: a path returns or reaches the end of the function without it (${verb} at line ${verdict.releases.map(line).join(", ") || "none"} only on other paths, or from a callback that may never run)`;
  } else {
    const remedy = site.facts.finallyRelease && !site.facts.finallyRelease.includes("$") && !wording.remedy.includes(`${site.facts.finallyRelease}()`) && wording.remedy.startsWith("call ")
      ? `call ${site.facts.finallyRelease}() in a finally block`
      : wording.remedy;
    message = `${subject} is ${verb} only on the normal path: it is not ${verb} when an exception is thrown; ${remedy}`;
  }
  void report;
  return finding(context, entry, message, fixFor(context, entry, verdict.releases));
}

function finding(context: RuleContext, entry: SiteResult, message: string, fix: Fix | null): RawFinding {
  const node = entry.site.node;
  return { rule: entry.site.facts.rule, message, ...nodeRange(context.sourceFile, node), fix, scope: scopeName(node) };
}

/**
 * try/finally, safe by proof: the library supports it (the model lists the protocol and a
 * release statement), nothing else owns the value (no transfer on any path), and every
 * existing release is a plain statement the fix moves into `finally` (no second release).
 */
function fixFor(context: RuleContext, entry: SiteResult, releases: Span[]): Fix | null {
  const { site, report } = entry;
  const facts = site.facts;
  if (!facts.finallyRelease || !facts.protocols.includes("try-finally")) return null;
  if (site.origin !== "call" && site.origin !== "new") return null;
  if (!site.declaration || site.bound === null) return null;
  if ((report?.transfers.length ?? 0) > 0) return null;
  const declaration = site.declaration;
  const list = declaration.parent;
  const statement = list.parent;
  if (!ts.isVariableDeclarationList(list) || !ts.isVariableStatement(statement) || list.declarations.length !== 1) return null;
  if ((list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0 || (list.flags & ts.NodeFlags.Using) !== 0) return null;
  if (!ts.isIdentifier(declaration.name)) return null;
  const name = declaration.name.text;
  const owner = site.owner;
  const ownerAsync = ts.isSourceFile(owner) || (isFunctionLike(owner) && (ts.getCombinedModifierFlags(owner) & ts.ModifierFlags.Async) !== 0);
  const awaitRelease = facts.releaseAwait === "always" || (facts.releaseAwait === "when-async" && ownerAsync);
  if (awaitRelease && !ownerAsync) return null;
  let call: string;
  if (facts.finallyRelease.includes("$receiver")) {
    if (!site.receiverText || !/^[\w$.]+$/.test(site.receiverText)) return null;
    call = facts.finallyRelease.replace("$receiver", site.receiverText).replace("$name", name);
  } else {
    call = `${name}.${facts.finallyRelease}()`;
  }
  const releaseStatement = `${awaitRelease ? "await " : ""}${call}`;
  return tryFinallyFix({
    path: context.path,
    text: context.text,
    sourceFile: context.sourceFile,
    statement,
    name,
    releases,
    releaseStatement,
    description: `Wrap the code that uses \`${name}\` in try/finally and call \`${releaseStatement}\` in the finally block`,
  });
}
