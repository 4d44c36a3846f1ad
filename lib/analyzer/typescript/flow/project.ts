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
  let literal = words;
  let round = -1;
  solveSummaries(functions, ({ facts, fn, entry }, name): FunctionSummary => {
    const text = fn.getText(facts.sourceFile);
    if (functions.size > 0 && name === functions.keys().next().value) {
      round++;
      if (round > 0) literal = new RegExp(`${acquisitionLiteral({ registry, flow }).source}|${words.source}|${helperNames(flow)}`);
    }
    let summary = emptySummary(false);
    try {
      if (literal.test(text)) summary = summarize(facts, fn, classInfoFor(facts, entry));
    } catch (error) {
      // Nested too deeply to lower: no summary (callers treat it as unknown).
      if (!(error instanceof RangeError)) throw error;
    }
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
