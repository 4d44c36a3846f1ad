import { ts } from "ts-morph";
import { emptySummary, type FunctionSummary, solveSummaries } from "../../flow/summaries.ts";
import type { AnalyzeOptions, SourceInput } from "../../types.ts";
import type { FunctionLike } from "../ast.ts";
import type { TypeScriptIndex } from "../build-index.ts";
import { parseSource } from "../parse.ts";
import { acquisitionLiteral, classInfoFor, functionsOf, inferModuleTypes, summarize } from "./analyze-file.ts";
import { buildFileFacts, type FileFacts, type FlowIndex, modelsFor, resolverFor } from "./file-facts.ts";

// Project-wide function summaries, to a fixpoint across modules: a function returning
// `pool.connect()` makes its callers acquirers, a helper releasing its argument makes its
// callers safe. Only files whose text could define such a function are parsed.

const RELEASE_WORDS = ["release", "end", "endSession", "commit", "rollback", "destroy", "close", "dispose", "$disconnect"];

export function buildFlowIndex(files: readonly SourceInput[], index: TypeScriptIndex, options: AnalyzeOptions | undefined): FlowIndex {
  const flow: FlowIndex = { summaries: {}, exportTypes: {} };
  const { registry } = modelsFor(options);
  const base = acquisitionLiteral({ registry, flow });
  const words = new RegExp(`${base.source}|\\b(${RELEASE_WORDS.map((w) => w.replace("$", "\\$")).join("|")})\\s*\\(`);
  const resolver = resolverFor(index);
  const parsed: FileFacts[] = [];
  for (const file of files) {
    // Generated bundles (a 9 MB compiler in one file) define no project wrappers worth the cost.
    if (file.text.length > 1_000_000) continue;
    if (!words.test(file.text) && !/\b(Pool|createPool|DataSource|Sequelize|knex|MongoClient)\b/.test(file.text)) continue;
    let sourceFile: ts.SourceFile;
    try {
      sourceFile = parseSource(file.path, file.text);
    } catch (error) {
      if (error instanceof RangeError) continue;
      throw error;
    }
    parsed.push(buildFileFacts(file.path, file.text, sourceFile, resolver, flow, options));
  }
  // Module-level bindings first (two passes: `export const db = createDb()` may use another module's export).
  for (let pass = 0; pass < 2; pass++) {
    for (const facts of parsed) {
      inferModuleTypes(facts);
      for (const [name, type] of facts.moduleTypes) flow.exportTypes[`${facts.path}#${name}`] = type;
      for (const statement of facts.sourceFile.statements) {
        if (ts.isExportAssignment(statement) && ts.isIdentifier(statement.expression)) {
          const type = facts.moduleTypes.get(statement.expression.text);
          if (type) flow.exportTypes[`${facts.path}#default`] = type;
        }
      }
    }
  }
  const functions = new Map<string, { facts: FileFacts; fn: FunctionLike; entry: ReturnType<typeof functionsOf>[number] }>();
  for (const facts of parsed) {
    let entries: ReturnType<typeof functionsOf> = [];
    try {
      entries = functionsOf(facts.sourceFile);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
    for (const entry of entries) {
      if (ts.isSourceFile(entry.fn) || !entry.name) continue;
      functions.set(`${facts.path}#${entry.name}`, { facts, fn: entry.fn, entry });
      if (isDefaultExport(entry.fn)) functions.set(`${facts.path}#default`, { facts, fn: entry.fn, entry });
    }
  }
  const acquiring = base;
  const releaseCall = `\\s*\\.\\s*(${RELEASE_WORDS.map((w) => w.replace("$", "\\$")).join("|")})\\s*\\(`;
  const cache = new Map<string, FunctionSummary>();
  let helpers: RegExp | null = null;
  let round = -1;
  const first = functions.keys().next().value;
  solveSummaries(functions, ({ facts, fn, entry }, name): FunctionSummary => {
    if (name === first) {
      round++;
      helpers = round > 0 ? new RegExp(`${acquisitionLiteral({ registry, flow }).source}|${helperNames(flow)}`) : null;
    }
    const text = fn.getText(facts.sourceFile);
    // Worth lowering: it acquires, it calls a release method on one of its parameters, or
    // (later rounds) it calls a function that now has a summary. Everything else keeps its
    // previous (usually empty) summary.
    let worth: boolean;
    if (round === 0) {
      const params = fn.parameters.flatMap((p) => (ts.isIdentifier(p.name) ? [p.name.text.replace(/\$/g, "\\$")] : []));
      worth = acquiring.test(text) || (params.length > 0 && new RegExp(`\\b(${params.join("|")})${releaseCall}`).test(text));
    } else {
      worth = (helpers as RegExp | null)?.test(text) ?? false;
    }
    let summary = cache.get(name) ?? emptySummary(false);
    if (worth) {
      try {
        summary = summarize(facts, fn, classInfoFor(facts, entry));
      } catch (error) {
        // Nested too deeply to lower: no summary (callers treat it as unknown).
        if (!(error instanceof RangeError)) throw error;
      }
    }
    cache.set(name, summary);
    if (isEmpty(summary)) delete flow.summaries[name];
    else flow.summaries[name] = summary;
    return summary;
  });
  return flow;
}

function helperNames(flow: FlowIndex): string {
  const names = Object.keys(flow.summaries).map((name) => (name.split(/[#.]/).pop() ?? name).replace(/[$]/g, "\\$"));
  return names.length > 0 ? `\\b(${names.join("|")})\\b` : "$^";
}

function isEmpty(summary: FunctionSummary): boolean {
  return (
    summary.returnsFresh === null &&
    summary.returnsType === null &&
    summary.releasesParams.length === 0 &&
    summary.takesParams.length === 0 &&
    summary.invokesParams.length === 0 &&
    summary.yieldsFresh === null
  );
}

function isDefaultExport(fn: FunctionLike): boolean {
  const modifiers = ts.canHaveModifiers(fn) ? (ts.getModifiers(fn) ?? []) : [];
  return modifiers.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
}
