import { posix } from "node:path";
import picomatch from "picomatch";
import type { AnalyzeOptions, FileAnalysis, ForbiddenImportConfig, LanguagePlugin, RawFinding, SourceInput } from "../types.ts";
import { buildTypeScriptIndex, isIndexOnlyFile, type TypeScriptIndex } from "./build-index.ts";
import type { RuleContext } from "./context.ts";
import { checkForbiddenImports, forbiddenImportRuleMeta } from "./forbidden-import.ts";
import { parseOnlySource, parseSource, syntaxError, withParents, TYPESCRIPT_EXTENSIONS } from "./parse.ts";
import { acquisitionLiteral, asIdentifiers } from "./flow/analyze-file.ts";
import { emptyFlowIndex, modelsFor } from "./flow/file-facts.ts";
import { typescriptRules } from "./rules/index.ts";

// The TypeScript/JavaScript language plugin. Files are parsed one at a time with the
// TypeScript compiler bundled in ts-morph (no Program, no type checker), so analyzeFile
// is cheap, independent and safe to run in worker threads.
//
// Besides source files the plugin asks for `tsconfig.json`, `jsconfig.json` and
// `package.json`: buildIndex reads their `paths`/`baseUrl`/`extends` and package
// names to resolve imports; analyzeFile ignores them.

const INDEX_FILES = ["tsconfig.json", "jsconfig.json", "package.json"] as const;

export const typescriptPlugin: LanguagePlugin<TypeScriptIndex> = {
  language: "typescript",
  extensions: [...TYPESCRIPT_EXTENSIONS, ...INDEX_FILES],
  rules: [...typescriptRules.map((rule) => rule.meta), forbiddenImportRuleMeta],
  buildIndex(files: readonly SourceInput[], options: AnalyzeOptions): TypeScriptIndex {
    return buildTypeScriptIndex(files, options);
  },
  analyzeFile(file: SourceInput, index: TypeScriptIndex, options: AnalyzeOptions): FileAnalysis {
    if (isIndexOnlyFile(file.path)) return { findings: [] };
    try {
      return analyze(file, index, options);
    } catch (error) {
      // Thousands of nested blocks exhaust the stack, in TypeScript's own parser too;
      // report the file and let the scan go on.
      if (error instanceof RangeError) return { findings: [], error: nestedTooDeeply(error) };
      throw error;
    }
  },
  precheck(file: SourceInput, options: AnalyzeOptions): FileAnalysis | null {
    if (isIndexOnlyFile(file.path)) return { findings: [] };
    // A file that names a library callable is analysed whatever the index holds; one that
    // names none is not parsed here (see analyze()): afterPrecheck decides once the index
    // knows the project's wrappers and import aliases.
    return modelLiteral(options).test(file.text) ? null : { findings: [] };
  },
  afterPrecheck(file: SourceInput, prechecked: FileAnalysis, index: TypeScriptIndex, options: AnalyzeOptions): FileAnalysis | null {
    if (prechecked.error || isIndexOnlyFile(file.path)) return prechecked;
    return mayAcquire(file.text, index, options) || mayImportBanned(file, index, options) ? null : prechecked;
  },
  parseOnly(file: SourceInput): void {
    if (isIndexOnlyFile(file.path)) return;
    try {
      parseOnlySource(file.path, file.text);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
  },
};

function analyze(file: SourceInput, index: TypeScriptIndex, options: AnalyzeOptions): FileAnalysis {
  // Files that cannot hold an acquisition (by the literals the models and the project's
  // summaries require) or a banned import (by the literals of the bans) are not parsed at
  // all, like Semgrep's required literals: most files of a repository. So a syntax error is
  // reported only in files that could hold something to report.
  const acquires = mayAcquire(file.text, index, options);
  const checkImports = mayImportBanned(file, index, options);
  if (!acquires && !checkImports) return { findings: [] };
  const bare = parseSource(file.path, file.text, false);
  const error = syntaxError(bare);
  if (error) return { findings: [], error };
  const rules = acquires ? typescriptRules.filter((rule) => options.enabledRules.has(rule.meta.id)) : [];
  if (rules.length === 0 && !checkImports) return { findings: [] };
  const sourceFile = withParents(bare);
  const context: RuleContext = { path: file.path, text: file.text, sourceFile, index, options };
  const findings: RawFinding[] = [];
  for (const rule of rules) findings.push(...rule.check(context));
  if (checkImports) findings.push(...checkForbiddenImports(context));
  return { findings: findings.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column) };
}

function nestedTooDeeply(error: RangeError): string {
  return `not analyzed: ${error.message} (code nested too deeply)`;
}

/** The bans that apply to TypeScript (import-linter contracts are for Python only). */
function typescriptBans(options: AnalyzeOptions): ForbiddenImportConfig[] {
  if (!options.enabledRules.has("forbidden-import")) return [];
  return options.config.forbidden_imports.filter((entry) => entry.policy?.kind !== "import-linter-forbidden");
}

type ImportNeedle = (path: string, text: string) => boolean;

const importNeedles = new WeakMap<TypeScriptIndex, WeakMap<AnalyzeOptions["config"], ImportNeedle>>();

/**
 * Could the file import something a ban forbids? A necessary condition on its text, so a
 * file that fails it is not parsed for forbidden-import (see importNeedle).
 */
export function mayImportBanned(file: SourceInput, index: TypeScriptIndex, options: AnalyzeOptions): boolean {
  const bans = typescriptBans(options);
  if (bans.length === 0) return false;
  let byConfig = importNeedles.get(index);
  if (!byConfig) {
    byConfig = new WeakMap();
    importNeedles.set(index, byConfig);
  }
  let needle = byConfig.get(options.config);
  if (!needle) {
    needle = importNeedle(bans, index);
    byConfig.set(options.config, needle);
  }
  return needle(file.path, file.text);
}

const always: ImportNeedle = () => true;

/**
 * For each ban, the literal its specifier must contain: an ESLint `paths` name as written,
 * the literal parts of a `group` pattern, the last segment of a banned module or folder
 * (a relative, `baseUrl` or wildcard-alias specifier that resolves into it names it),
 * plus the alias or workspace package name when an alias, a package or a `baseUrl` points
 * inside the banned tree (`"@db": ["src/lib/db/internal"]`). A file inside the banned
 * folder can reach it with `".."` alone, so it always counts. `regex` bans and patterns
 * without a literal part count for every file.
 */
function importNeedle(bans: readonly ForbiddenImportConfig[], index: TypeScriptIndex): ImportNeedle {
  const needles = bans.map((entry): ImportNeedle => {
    const inner = banNeedle(entry, index);
    if (!entry.in?.length) return inner;
    const scoped = picomatch(entry.in, { dot: true });
    return (path, text) => scoped(path) && inner(path, text);
  });
  return (path, text) => needles.some((needle) => needle(path, text));
}

function banNeedle(entry: ForbiddenImportConfig, index: TypeScriptIndex): ImportNeedle {
  const policy = entry.policy;
  if (!policy) return moduleNeedle(banBase(entry.from), index);
  if (policy.kind === "eslint-restricted-path") {
    const needles = policy.from.map((zone) => moduleNeedle(zoneBase(zone), index));
    return (path, text) => needles.some((needle) => needle(path, text));
  }
  if (policy.kind !== "eslint-restricted-import") return always;
  if (policy.name !== undefined) {
    const name = policy.name.trim();
    return name ? (_path, text) => text.includes(name) : always;
  }
  if (policy.regex !== undefined || !policy.group) return always;
  const literals: string[] = [];
  for (const pattern of policy.group) {
    if (pattern.startsWith("!") || pattern.trim() === "" || pattern.startsWith("#")) continue; // exceptions and comments allow, they never ban
    const longest = literalParts(pattern).sort((a, b) => b.length - a.length)[0];
    if (!longest) return always;
    literals.push(policy.case_sensitive ? longest : longest.toLowerCase());
  }
  if (literals.length === 0) return () => false;
  if (policy.case_sensitive) return (_path, text) => literals.some((literal) => text.includes(literal));
  return (_path, text) => {
    const lower = text.toLowerCase();
    return literals.some((literal) => lower.includes(literal));
  };
}

/** The parts of a glob every match contains, without leading or trailing slashes. */
function literalParts(pattern: string): string[] {
  return pattern
    .split(/\[[^\]]*\]|\{[^}]*\}|[*?!]/)
    .map((part) => part.replace(/^\/+|\/+$/g, ""))
    .filter((part) => part.length > 0);
}

/** What forbidden-import compares resolved modules with: no extension, no `/index`, no subtree suffix. */
function banBase(from: string): string {
  return normalizeModule(from.replace(/(\/\*\*?|\.\*)$/, ""));
}

/** import/no-restricted-paths zones: a folder, or a glob (its folder before the first wildcard). */
function zoneBase(zone: string): string {
  if (!/[*?[\]{}!]/.test(zone)) return normalizeModule(zone);
  const segments = zone.split("/");
  const fixed = segments.slice(0, segments.findIndex((segment) => /[*?[\]{}!]/.test(segment)));
  return normalizeModule(fixed.join("/"));
}

function normalizeModule(value: string): string {
  return value
    .replace(/^\.\//, "")
    .replace(/\/+$/, "")
    .replace(/(\.d)?\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/, "")
    .replace(/\/index$/, "");
}

function within(path: string, folder: string): boolean {
  return folder === "" || path === folder || path.startsWith(`${folder}/`);
}

/** A specifier that resolves to BASE or below it (a package specifier is its own base). */
function moduleNeedle(base: string, index: TypeScriptIndex): ImportNeedle {
  const name = posix.basename(base);
  if (base === "" || base === "." || name === "" || name === "..") return always;
  const literals = new Set([name]);
  for (const config of index.configs) {
    // `baseUrl` inside the banned tree: a bare specifier reaches it without naming it.
    if (config.baseUrl !== null && within(config.baseUrl, base)) return always;
    for (const alias of config.aliases) {
      for (const target of alias.targets) {
        if (!within(normalizeModule(target.split("*")[0]), base)) continue;
        const literal = alias.pattern.split("*")[0];
        if (!literal) return always;
        literals.add(literal);
      }
    }
  }
  for (const pkg of index.packages) if (within(pkg.dir, base)) literals.add(pkg.name);
  const all = [...literals];
  return (path, text) => within(posix.dirname(path), base) || all.some((literal) => text.includes(literal));
}

const modelLiterals = new WeakMap<AnalyzeOptions["config"], RegExp>();

/** The models' acquiring callables alone (no project wrappers): what a precheck can know. */
function modelLiteral(options: AnalyzeOptions): RegExp {
  let literal = modelLiterals.get(options.config);
  if (!literal) {
    literal = asIdentifiers(acquisitionLiteral({ registry: modelsFor(options).registry, flow: emptyFlowIndex() }));
    modelLiterals.set(options.config, literal);
  }
  return literal;
}

const literals = new WeakMap<TypeScriptIndex, RegExp>();

function mayAcquire(text: string, index: TypeScriptIndex, options: AnalyzeOptions): boolean {
  let literal = literals.get(index);
  if (!literal) {
    literal = asIdentifiers(acquisitionLiteral({ registry: modelsFor(options).registry, flow: index.flow ?? emptyFlowIndex() }));
    literals.set(index, literal);
  }
  return literal.test(text);
}
