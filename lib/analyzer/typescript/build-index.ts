import { posix } from "node:path";
import { ts } from "ts-morph";
import type { AnalyzeOptions, SourceInput } from "../types.ts";
import { parseSource } from "./parse.ts";
import { createResolver } from "./resolve.ts";
import type { FlowIndex } from "./flow/file-facts.ts";
import { buildFlowIndex } from "./flow/project.ts";
import { findPrismaSingletons, type PrismaSingleton } from "./prisma-singletons.ts";

// The cross-file facts the TypeScript rules need, built once per scan from every file
// of the language and handed (structured-cloned) to each analyzeFile call:
// - which repository files exist (to resolve `../db`, `@/lib/db`, `./x.js` → `./x.ts`);
// - the tsconfig/jsconfig `baseUrl`/`paths` in force for each folder (extends chains
//   inside the repository followed; JSON with comments parsed tolerantly, nothing run);
// - package names of workspaces (so `@acme/db/internal` maps to a folder);
// - the modules that export a shared PrismaClient (for prisma-client-per-call's fix).

export interface PathAlias {
  /** Pattern with at most one `*`, e.g. "@/*". */
  pattern: string;
  /** Repository-relative targets with the same `*`, e.g. "src/*". */
  targets: string[];
}

export interface CompilerPathConfig {
  /** Folder the config applies to (repository-relative, "" for the root). */
  dir: string;
  /** Repository-relative baseUrl, or null when none is set. */
  baseUrl: string | null;
  aliases: PathAlias[];
}

export interface TypeScriptIndex {
  files: string[];
  configs: CompilerPathConfig[];
  packages: { dir: string; name: string }[];
  prismaSingletons: PrismaSingleton[];
  /**
   * Names exported by the modules that `forbidden_imports` entries point to with
   * `use_instead` (path → names; "*" when it re-exports everything), so the rewrite fix
   * is offered only when the replacement really exports what the import needs.
   */
  exports: Record<string, string[]>;
  /** Function summaries and module-level binding types for the resource analysis (see flow/project.ts). */
  flow?: FlowIndex;
}

const CONFIG_NAMES = new Set(["tsconfig.json", "jsconfig.json"]);

export function isIndexOnlyFile(path: string): boolean {
  const base = posix.basename(path);
  return base.endsWith(".json");
}

export function buildTypeScriptIndex(files: readonly SourceInput[], options?: AnalyzeOptions): TypeScriptIndex {
  const byPath = new Map(files.map((file) => [file.path, file.text]));
  const sources: string[] = [];
  const configs: CompilerPathConfig[] = [];
  const packages: { dir: string; name: string }[] = [];
  for (const file of files) {
    const base = posix.basename(file.path);
    const dir = posix.dirname(file.path) === "." ? "" : posix.dirname(file.path);
    if (CONFIG_NAMES.has(base) || /^tsconfig\..+\.json$/.test(base)) {
      if (!CONFIG_NAMES.has(base)) continue; // tsconfig.build.json etc. only matter through extends
      const config = readCompilerPaths(file.path, byPath);
      if (config) configs.push({ dir, ...config });
      continue;
    }
    if (base === "package.json") {
      const name = readPackageName(file.text);
      if (name) packages.push({ dir, name });
      continue;
    }
    if (isIndexOnlyFile(file.path)) continue;
    sources.push(file.path);
  }
  // Deepest folder first: the nearest config wins.
  configs.sort((a, b) => b.dir.length - a.dir.length);
  packages.sort((a, b) => b.dir.length - a.dir.length);
  const prismaSingletons = findPrismaSingletons(files.filter((file) => !isIndexOnlyFile(file.path)));
  const index: TypeScriptIndex = { files: sources.sort(), configs, packages, prismaSingletons, exports: {} };
  const resolver = createResolver(index);
  for (const entry of options?.config.forbidden_imports ?? []) {
    const target = entry.use_instead?.split("#")[0];
    if (!target) continue;
    const path = resolver.resolve("", `./${target.replace(/^\.\//, "")}`);
    const text = path ? byPath.get(path) : undefined;
    if (path && text !== undefined) {
      try {
        index.exports[path] = exportedNames(parseSource(path, text));
      } catch (error) {
        if (!(error instanceof RangeError)) throw error; // unparseable: no rewrite fix to it
      }
    }
  }
  index.flow = buildFlowIndex(
    files.filter((file) => !isIndexOnlyFile(file.path)),
    index,
    options,
  );
  return index;
}

interface RawCompilerOptions {
  baseUrl?: unknown;
  paths?: unknown;
}

/** Follow `extends` inside the repository; the nearest file's baseUrl/paths win, as in tsc. */
function readCompilerPaths(path: string, byPath: ReadonlyMap<string, string>): Omit<CompilerPathConfig, "dir"> | null {
  let baseUrl: string | null = null;
  let paths: { value: Record<string, unknown>; dir: string } | null = null;
  let current: string | null = path;
  const seen = new Set<string>();
  while (current && !seen.has(current) && seen.size < 10) {
    seen.add(current);
    const text = byPath.get(current);
    if (text === undefined) break;
    const parsed = ts.parseConfigFileTextToJson(current, text);
    const config = parsed.config as { compilerOptions?: RawCompilerOptions; extends?: unknown } | undefined;
    if (!config || typeof config !== "object") break;
    const dir: string = posix.dirname(current) === "." ? "" : posix.dirname(current);
    const options = config.compilerOptions ?? {};
    if (baseUrl === null && typeof options.baseUrl === "string") baseUrl = posix.join(dir, options.baseUrl);
    if (paths === null && options.paths && typeof options.paths === "object") {
      paths = { value: options.paths as Record<string, unknown>, dir };
    }
    const parent = Array.isArray(config.extends) ? config.extends[0] : config.extends;
    current = typeof parent === "string" && parent.startsWith(".") ? withJson(posix.join(dir, parent)) : null;
  }
  if (baseUrl === null && paths === null) return null;
  const aliases: PathAlias[] = [];
  if (paths) {
    // Without baseUrl, paths are relative to the config that declares them (TS >= 4.1).
    const root = baseUrl ?? paths.dir;
    for (const [pattern, targets] of Object.entries(paths.value)) {
      if (!Array.isArray(targets)) continue;
      const resolved = targets.filter((target): target is string => typeof target === "string").map((target) => posix.join(root, target));
      aliases.push({ pattern, targets: resolved });
    }
  }
  return { baseUrl: baseUrl === "." ? "" : baseUrl, aliases };
}

function withJson(path: string): string {
  return path.endsWith(".json") ? path : `${path}.json`;
}

function readPackageName(text: string): string | null {
  try {
    const value = JSON.parse(text) as { name?: unknown };
    return typeof value.name === "string" && value.name.length > 0 ? value.name : null;
  } catch {
    return null;
  }
}

/** Names a module exports; "*" when it re-exports a whole module (we cannot list those). */
export function exportedNames(sourceFile: ts.SourceFile): string[] {
  const names = new Set<string>();
  for (const statement of sourceFile.statements) {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      if (!clause || ts.isNamespaceExport(clause)) {
        names.add(clause ? clause.name.text : "*");
        continue;
      }
      for (const element of clause.elements) names.add(element.name.text);
      continue;
    }
    if (ts.isExportAssignment(statement)) {
      names.add(statement.isExportEquals ? "*" : "default");
      continue;
    }
    const modifiers = ts.canHaveModifiers(statement) ? (ts.getModifiers(statement) ?? []) : [];
    if (!modifiers.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)) continue;
    if (modifiers.some((modifier) => modifier.kind === ts.SyntaxKind.DefaultKeyword)) names.add("default");
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) names.add(declaration.name.text);
        else names.add("*");
      }
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text);
    }
  }
  return [...names].sort();
}
