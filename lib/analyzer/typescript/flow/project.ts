import { ts } from "ts-morph";
import { emptySummary, type FunctionSummary, solveSummaries } from "../../flow/summaries.ts";
import type { AnalyzeOptions, SourceInput } from "../../types.ts";
import type { FunctionLike } from "../ast.ts";
import type { TypeScriptIndex } from "../build-index.ts";
import { parseSource } from "../parse.ts";
import { acquisitionLiteral, classInfoFor, functionsOf, inferModuleTypes, summarize } from "./analyze-file.ts";
import { buildFileFacts, type FileFacts, type FlowIndex, modelsFor, resolverFor } from "./file-facts.ts";
import type { ClassInfo } from "./lower.ts";

// Project-wide function summaries, to a fixpoint across modules: a function returning
// `pool.connect()` makes its callers acquirers, a helper releasing its argument makes its
// callers safe. Only files whose text could define such a function are parsed.

const RELEASE_WORDS = ["release", "end", "endSession", "commit", "rollback", "destroy", "close", "dispose", "$disconnect"];

// Parsed files kept between the passes below, by source size: every file that fits in
// the budget stays parsed for the whole index; the others are parsed again when a pass
// needs them and dropped right after (a million-line repository would otherwise hold
// every syntax tree of the project at once: about 45 bytes of tree per byte of source).
// 8 MB: on typeorm (8.7 MB indexed) a 2 MB budget re-parsed so much that the index
// process peaked higher (553 MB) than with every file kept (441 MB), and took 40% longer.
const PINNED_SOURCE_BYTES = 8 * 1024 * 1024;

type Parsed = { facts: FileFacts; entries: ReturnType<typeof functionsOf> | null };

/**
 * A file the index looks at. What the passes learn about it lives here, not in the
 * syntax tree: the module-level binding types and the field types of its classes, so a
 * file parsed again continues exactly where the previous pass left it.
 */
type Slot = {
  file: SourceInput;
  moduleTypes: Map<string, string>;
  classFields: Map<number, Map<string, string>>;
  /** Top-level variable statements: only they give module-level binding types (inferModuleTypes). */
  hasBindings: boolean;
  /** The file's named functions, read once on the first parse (pure syntax). */
  refs: { keys: string[]; ref: FunctionRef }[];
};

type FunctionRef = { slot: Slot; ordinal: number; text: string; params: string[] };

export function buildFlowIndex(
  files: readonly SourceInput[],
  index: TypeScriptIndex,
  options: AnalyzeOptions | undefined,
  limits: { pinnedSourceBytes?: number } = {},
): FlowIndex {
  const pinnedBudget = limits.pinnedSourceBytes ?? PINNED_SOURCE_BYTES;
  const flow: FlowIndex = { summaries: {}, exportTypes: {} };
  const { registry } = modelsFor(options);
  const base = acquisitionLiteral({ registry, flow });
  const words = new RegExp(`${base.source}|\\b(${RELEASE_WORDS.map((w) => w.replace("$", "\\$")).join("|")})\\s*\\(`);
  const resolver = resolverFor(index);
  const pinned = new Map<Slot, Parsed>();
  let pinnedBytes = 0;
  let last: { slot: Slot; parsed: Parsed } | null = null;
  const build = (slot: Slot, sourceFile: ts.SourceFile): Parsed => {
    const facts = buildFileFacts(slot.file.path, slot.file.text, sourceFile, resolver, flow, options);
    facts.moduleTypes = slot.moduleTypes;
    const parsed: Parsed = { facts, entries: null };
    if (pinnedBytes + slot.file.text.length <= pinnedBudget) {
      pinned.set(slot, parsed);
      pinnedBytes += slot.file.text.length;
    } else {
      last = { slot, parsed };
    }
    return parsed;
  };
  const load = (slot: Slot): Parsed => {
    const hit = pinned.get(slot) ?? (last?.slot === slot ? last.parsed : undefined);
    if (hit) return hit;
    // Parsed successfully the first time, so it parses again.
    return build(slot, parseSource(slot.file.path, slot.file.text));
  };
  const entriesOf = (slot: Slot): ReturnType<typeof functionsOf> => {
    const parsed = load(slot);
    if (parsed.entries) return parsed.entries;
    let entries: ReturnType<typeof functionsOf> = [];
    try {
      entries = functionsOf(parsed.facts.sourceFile);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
    // Field types of a class are learnt once (see classInfoFor) and kept with the file.
    for (const entry of entries) {
      const info = entry.classInfo as (ClassInfo & { node?: ts.Node }) | null;
      if (!info?.node) continue;
      const known = slot.classFields.get(info.node.pos);
      if (known) info.fieldTypes = known;
      else slot.classFields.set(info.node.pos, info.fieldTypes);
    }
    parsed.entries = entries;
    return entries;
  };
  const slots: Slot[] = [];
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
    const slot: Slot = { file, moduleTypes: new Map(), classFields: new Map(), hasBindings: sourceFile.statements.some(ts.isVariableStatement), refs: [] };
    slots.push(slot);
    build(slot, sourceFile);
    // Functions are collected while the file is parsed anyway: a later pass would parse
    // every file that does not fit in the pinned budget again just to list them.
    entriesOf(slot).forEach((entry, ordinal) => {
      if (ts.isSourceFile(entry.fn) || !entry.name) return;
      const fn = entry.fn;
      const ref: FunctionRef = {
        slot,
        ordinal,
        text: fn.getText(sourceFile),
        params: fn.parameters.flatMap((p) => (ts.isIdentifier(p.name) ? [p.name.text.replace(/\$/g, "\\$")] : [])),
      };
      slot.refs.push({ keys: isDefaultExport(fn) ? [`${file.path}#${entry.name}`, `${file.path}#default`] : [`${file.path}#${entry.name}`], ref });
    });
  }
  // Module-level bindings first (two passes: `export const db = createDb()` may use another module's export).
  for (let pass = 0; pass < 2; pass++) {
    for (const slot of slots) {
      // Nothing to infer (and so nothing to export) without a top-level variable statement.
      if (!slot.hasBindings) continue;
      const facts = load(slot).facts;
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
  const functions = new Map<string, FunctionRef>();
  for (const slot of slots) {
    for (const { keys, ref } of slot.refs) for (const key of keys) functions.set(key, ref);
  }
  const acquiring = base;
  const releaseCall = `\\s*\\.\\s*(${RELEASE_WORDS.map((w) => w.replace("$", "\\$")).join("|")})\\s*\\(`;
  const cache = new Map<string, FunctionSummary>();
  let helpers: RegExp | null = null;
  let round = -1;
  const first = functions.keys().next().value;
  // Which summaries each lowering read, so a function is lowered again only when one of
  // them changed since: lowering is a pure function of the syntax and the summaries it
  // reads, so skipping it gives exactly the summary the previous lowering gave. The reads
  // are recorded through a proxy over the summaries while the solver runs.
  const summaries = flow.summaries;
  let tick = 0;
  let lastAnyChange = 0;
  const changedAt = new Map<string, number>();
  const computed = new Map<string, { at: number; deps: Set<string> | "all" }>();
  let reads: Set<string> | "all" | null = null;
  const record = (key: string | symbol) => {
    if (reads !== null && reads !== "all" && typeof key === "string") reads.add(key);
  };
  flow.summaries = new Proxy(summaries, {
    get(target, key) {
      record(key);
      return Reflect.get(target, key);
    },
    has(target, key) {
      record(key);
      return Reflect.has(target, key);
    },
    getOwnPropertyDescriptor(target, key) {
      record(key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    ownKeys(target) {
      if (reads !== null) reads = "all";
      return Reflect.ownKeys(target);
    },
  });
  const stale = (name: string): boolean => {
    const last = computed.get(name);
    if (!last) return true;
    if (last.deps === "all") return lastAnyChange > last.at;
    for (const key of last.deps) if ((changedAt.get(key) ?? 0) > last.at) return true;
    return false;
  };
  try {
    solveSummaries(functions, ({ slot, ordinal, text, params }, name): FunctionSummary => {
      if (name === first) {
        round++;
        helpers = round > 0 ? new RegExp(`${acquisitionLiteral({ registry, flow: { ...flow, summaries } }).source}|${helperNames({ ...flow, summaries })}`) : null;
      }
      // Worth lowering: it acquires, it calls a release method on one of its parameters, or
      // (later rounds) it calls a function that now has a summary. Everything else keeps its
      // previous (usually empty) summary.
      let worth: boolean;
      if (round === 0) {
        worth = acquiring.test(text) || (params.length > 0 && new RegExp(`\\b(${params.join("|")})${releaseCall}`).test(text));
      } else {
        worth = (helpers as RegExp | null)?.test(text) ?? false;
      }
      let summary = cache.get(name) ?? emptySummary(false);
      if (worth && stale(name)) {
        const entry = entriesOf(slot)[ordinal];
        const facts = load(slot).facts;
        reads = new Set();
        const at = tick;
        try {
          summary = summarize(facts, entry.fn as FunctionLike, classInfoFor(facts, entry));
        } catch (error) {
          // Nested too deeply to lower: no summary (callers treat it as unknown).
          if (!(error instanceof RangeError)) throw error;
        } finally {
          computed.set(name, { at, deps: reads });
          reads = null;
        }
      }
      cache.set(name, summary);
      const before = summaries[name];
      const after = isEmpty(summary) ? undefined : summary;
      if (after) summaries[name] = after;
      else delete summaries[name];
      if ((before === undefined) !== (after === undefined) || (before && after && before !== after && JSON.stringify(before) !== JSON.stringify(after))) {
        tick++;
        changedAt.set(name, tick);
        lastAnyChange = tick;
      }
      return summary;
    });
  } finally {
    flow.summaries = summaries;
  }
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
