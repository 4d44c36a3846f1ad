import type { ts as TS } from "ts-morph";
import { join } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { ConfigNote, DerivedImportPolicy, ForbiddenImportConfig } from "../types.ts";
import {
  firstUnknown,
  fromExpression,
  fromYaml,
  type Literal,
  lineOfNode,
  parseJsonLiteral,
  property,
  readPolicyFile,
  stringList,
  stringValue,
  topLevelConstants,
  typescript,
  unwrap,
} from "./literal-values.ts";

// ESLint's `no-restricted-imports` (and the @typescript-eslint variant) and
// `import/no-restricted-paths` (eslint-plugin-import, eslint-plugin-import-x) read from
// the repository's root ESLint config. Configs written in JavaScript or TypeScript are
// parsed with the TypeScript compiler and never executed: only literal values are read.

const flatConfigNames = ["eslint.config.js", "eslint.config.mjs", "eslint.config.cjs", "eslint.config.ts", "eslint.config.mts", "eslint.config.cts"];
// ESLint's own precedence when several legacy files exist.
const legacyConfigNames = [".eslintrc.js", ".eslintrc.cjs", ".eslintrc.yaml", ".eslintrc.yml", ".eslintrc.json", ".eslintrc"];
const restrictedImportRules = ["no-restricted-imports", "@typescript-eslint/no-restricted-imports"];
const restrictedPathRules = ["import/no-restricted-paths", "import-x/no-restricted-paths"];

type ConfigBlock = {
  /** Globs the block applies to (empty: every file). */
  files: string[];
  ignores: string[];
  rules: Literal | undefined;
  line: number;
};

/** `file`: the config's path from the repository root; `dir`: its folder ("" at the root). */
type Reader = { file: string; dir: string; notes: ConfigNote[]; /** Rules the config sets (options or off). */ configured: Set<string> };

export type EslintConfigKind = "flat" | "legacy";

// Cheap test before parsing anything (the TypeScript compiler is only loaded past it).
const mentionsRules = /no-restricted-(imports|paths)/;

/**
 * The import restrictions of the ESLint config in `dir` (a folder of the repository,
 * "" for the root), with paths and globs written from the repository root. `kind` says
 * which kind of config was found (null: none).
 */
export type EslintConfigBans = { bans: ForbiddenImportConfig[]; kind: EslintConfigKind | null; isRoot: boolean; configured: Set<string> };

export function eslintBans(root: string, dir: string, notes: ConfigNote[]): EslintConfigBans {
  const folder = dir ? join(root, dir) : root;
  const configured = new Set<string>();
  const readerFor = (name: string): Reader => ({ file: dir ? `${dir}/${name}` : name, dir, notes, configured });
  // ESLint uses a flat config when there is one, else the first legacy file, else package.json.
  for (const name of flatConfigNames) {
    const text = readPolicyFile(folder, name);
    if (text === null) continue;
    const reader = readerFor(name);
    return { bans: mentionsRules.test(text) ? bansFromBlocks(flatBlocks(text, reader), reader) : [], kind: "flat", isRoot: true, configured };
  }
  for (const name of legacyConfigNames) {
    const text = readPolicyFile(folder, name);
    if (text === null) continue;
    const reader = readerFor(name);
    // `root: true` stops ESLint from merging the folders above.
    const value = readLegacyFile(text, name, reader, mentionsRules.test(text) || /\broot\b/.test(text));
    const isRoot = property(value ?? undefined, "root")?.kind === "boolean" && (property(value ?? undefined, "root") as { value: boolean }).value;
    const bans = value && mentionsRules.test(text) ? bansFromBlocks(legacyBlocks(value, reader), reader) : [];
    return { bans, kind: "legacy", isRoot, configured };
  }
  const text = readPolicyFile(folder, "package.json");
  if (text === null || !text.includes('"eslintConfig"')) return { bans: [], kind: null, isRoot: false, configured };
  const config = property(parseJsonLiteral(text, "package.json") ?? undefined, "eslintConfig");
  if (config?.kind !== "object") return { bans: [], kind: null, isRoot: false, configured };
  const reader = readerFor("package.json");
  const isRoot = property(config, "root")?.kind === "boolean" && (property(config, "root") as { value: boolean }).value;
  return { bans: mentionsRules.test(text) ? bansFromBlocks(legacyBlocks(config, reader), reader) : [], kind: "legacy", isRoot, configured };
}

function readLegacyFile(text: string, name: string, reader: Reader, worthReading: boolean): Literal | null {
  if (!worthReading) return null;
  if (name.endsWith(".js") || name.endsWith(".cjs")) {
    const exported = exportedExpression(text, name, reader);
    return exported?.kind === "object" ? exported : null;
  }
  if (name.endsWith(".json")) {
    const value = parseJsonLiteral(text, name);
    if (!value) reader.notes.push({ path: reader.file, line: 1, message: "ESLint config not read: invalid JSON" });
    return value;
  }
  // `.eslintrc` may be JSON or YAML; YAML reads both (JSON comments aside).
  const asJson = name === ".eslintrc" ? parseJsonLiteral(text, name) : null;
  if (asJson) return asJson;
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (document.errors.length > 0) {
    reader.notes.push({ path: reader.file, line: document.errors[0].linePos?.[0]?.line ?? 1, message: "ESLint config not read: invalid YAML" });
    return null;
  }
  return fromYaml(document.contents, lines);
}

/** The value of `export default ...` / `module.exports = ...`, read statically. */
function exportedExpression(text: string, name: string, reader: Reader): Literal | null {
  const ts = typescript();
  const file = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, name.endsWith("ts") ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const constants = topLevelConstants(file);
  for (const statement of file.statements) {
    let expression: TS.Expression | null = null;
    if (ts.isExportAssignment(statement)) expression = statement.expression;
    else if (
      ts.isExpressionStatement(statement) &&
      ts.isBinaryExpression(statement.expression) &&
      statement.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      statement.expression.left.getText(file) === "module.exports"
    ) {
      expression = statement.expression.right;
    }
    if (!expression) continue;
    return configValue(file, expression, constants);
  }
  reader.notes.push({ path: reader.file, line: 1, message: "ESLint config not read: no `export default` or `module.exports` found" });
  return null;
}

/**
 * `defineConfig([...])`, `tseslint.config(a, b)` and similar wrappers pass their
 * arguments through: read them as one array. Other calls stay unknown.
 */
function configValue(file: TS.SourceFile, expression: TS.Expression, constants: Map<string, TS.Expression>, depth = 0): Literal {
  const ts = typescript();
  let node = unwrap(expression);
  if (ts.isIdentifier(node) && constants.has(node.text) && depth < 10) return configValue(file, constants.get(node.text) as TS.Expression, constants, depth + 1);
  if (ts.isCallExpression(node) && /^(defineConfig|config)$/.test(calleeName(node))) {
    const items: Literal[] = [];
    for (const argument of node.arguments) {
      const value = ts.isSpreadElement(argument) ? fromExpression(file, argument.expression, constants, 0) : configValue(file, argument, constants, depth + 1);
      if (value.kind === "array") items.push(...value.items);
      else items.push(value);
    }
    return { kind: "array", items, line: lineOfNode(file, node) };
  }
  if (ts.isArrayLiteralExpression(node)) {
    const items: Literal[] = [];
    for (const element of node.elements) {
      const inner = ts.isSpreadElement(element) ? element.expression : element;
      const value = configValue(file, inner, constants, depth + 1);
      if (ts.isSpreadElement(element) && value.kind === "array") items.push(...value.items);
      else items.push(value);
    }
    return { kind: "array", items, line: lineOfNode(file, node) };
  }
  node = expression;
  return fromExpression(file, node, constants, 0);
}

function calleeName(call: TS.CallExpression): string {
  const ts = typescript();
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return "";
}

function flatBlocks(text: string, reader: Reader): ConfigBlock[] {
  const exported = exportedExpression(text, reader.file.slice(reader.file.lastIndexOf("/") + 1), reader);
  if (!exported) return [];
  const items = exported.kind === "array" ? exported.items : [exported];
  const blocks: ConfigBlock[] = [];
  for (const item of items) {
    // Shared configs (`js.configs.recommended`, `...tseslint.configs.strict`) are not the
    // repository's own policy and are not followed.
    if (item.kind !== "object") continue;
    const keys = item.entries.map((entry) => entry.key).filter((key) => key !== "name");
    const files = property(item, "files");
    const ignores = property(item, "ignores");
    const rules = property(item, "rules");
    // An object with nothing but `ignores` removes files from linting altogether.
    if (keys.length === 1 && keys[0] === "ignores") {
      blocks.push(makeBlock([], stringList(ignores) ?? [], (glob) => flatGlob(reader.dir, glob), undefined, item.line));
      continue;
    }
    if (!rules || !mentionsRestrictions(rules, reader)) continue;
    const fileGlobs = files === undefined ? [] : stringList(files);
    const ignoreGlobs = ignores === undefined ? [] : stringList(ignores);
    if (fileGlobs === null || ignoreGlobs === null) {
      reader.notes.push({ path: reader.file, line: item.line, message: "ESLint import restrictions not read: `files`/`ignores` of this config object are not literal strings" });
      continue;
    }
    blocks.push(makeBlock(fileGlobs, ignoreGlobs, (glob) => flatGlob(reader.dir, glob), rules, item.line));
  }
  // Global ignores (an object holding only `ignores`) apply to every block.
  const globalIgnores = blocks.filter((block) => !block.rules).flatMap((block) => block.ignores);
  return blocks.filter((block) => block.rules).map((block) => ({ ...block, ignores: [...block.ignores, ...globalIgnores] }));
}

/**
 * A block's scope as plain globs: a negated `files` pattern (`!src/gen/**`) excludes
 * files, so it joins the ignores; a negated ignore only re-includes files and is dropped
 * (erring towards not reporting).
 */
function makeBlock(files: string[], ignores: string[], place: (glob: string) => string, rules: Literal | undefined, line: number): ConfigBlock {
  const positive = files.filter((glob) => !glob.startsWith("!")).map(place);
  const excluded = files.filter((glob) => glob.startsWith("!")).map((glob) => place(glob.slice(1)));
  return { files: positive, ignores: [...ignores.filter((glob) => !glob.startsWith("!")).map(place), ...excluded], rules, line };
}

/** Flat config globs are relative to the config's folder. */
function flatGlob(dir: string, glob: string): string {
  const clean = glob.replace(/^\.\//, "");
  return dir ? `${dir}/${clean}` : clean;
}

/** Legacy `.eslintrc` globs are relative to the config's folder; without a slash they match a file name in any folder below it. */
function legacyGlob(dir: string, glob: string): string {
  const clean = glob.replace(/^\.\//, "");
  const relativeGlob = clean.includes("/") ? clean.replace(/^\//, "") : `**/${clean}`;
  return dir ? `${dir}/${relativeGlob}` : relativeGlob;
}

function legacyBlocks(config: Literal, reader: Reader): ConfigBlock[] {
  // Negated ignore patterns only re-include files: dropping them errs towards not reporting.
  const ignorePatterns = (stringList(property(config, "ignorePatterns")) ?? []).filter((glob) => !glob.startsWith("!")).map((glob) => legacyGlob(reader.dir, glob));
  const blocks: ConfigBlock[] = [];
  const rules = property(config, "rules");
  if (rules && mentionsRestrictions(rules, reader)) blocks.push({ files: [], ignores: ignorePatterns, rules, line: rules.line });
  const overrides = property(config, "overrides");
  for (const override of overrides?.kind === "array" ? overrides.items : []) {
    const overrideRules = property(override, "rules");
    if (!overrideRules || !mentionsRestrictions(overrideRules, reader)) continue;
    const files = stringList(property(override, "files"));
    const excluded = stringList(property(override, "excludedFiles"));
    if (!files || !excluded || files.length === 0) {
      reader.notes.push({ path: reader.file, line: override.line, message: "ESLint import restrictions not read: `files`/`excludedFiles` of this override are not literal strings" });
      continue;
    }
    const block = makeBlock(files, excluded, (glob) => legacyGlob(reader.dir, glob), overrideRules, override.line);
    blocks.push({ ...block, ignores: [...block.ignores, ...ignorePatterns] });
  }
  return blocks;
}

function mentionsRestrictions(rules: Literal, reader: Reader): boolean {
  if (rules.kind === "unknown") {
    reader.notes.push({ path: reader.file, line: rules.line, message: "ESLint rules not read: the `rules` value is not a literal object" });
    return false;
  }
  return rules.kind === "object" && rules.entries.some((entry) => restrictedImportRules.includes(entry.key) || restrictedPathRules.includes(entry.key));
}

type Setting = { off: boolean; options: Literal[] | null };

function setting(value: Literal): Setting | null {
  const isOff = (severity: Literal | undefined) => (severity?.kind === "string" && severity.value === "off") || (severity?.kind === "number" && severity.value === 0);
  if (value.kind === "string" || value.kind === "number") return { off: isOff(value), options: null };
  if (value.kind === "array" && value.items.length > 0) {
    return { off: isOff(value.items[0]), options: value.items.length > 1 ? value.items.slice(1) : null };
  }
  return null;
}

/**
 * Walk the blocks in order, as ESLint merges them: a later block that configures the
 * rule again (new options, or `off`) replaces the earlier options for the files it
 * covers; a severity alone keeps them.
 */
function bansFromBlocks(blocks: ConfigBlock[], reader: Reader): ForbiddenImportConfig[] {
  const active = new Map<string, ForbiddenImportConfig[]>();
  for (const block of blocks) {
    if (block.rules?.kind !== "object") continue;
    for (const entry of block.rules.entries) {
      const isImports = restrictedImportRules.includes(entry.key);
      if (!isImports && !restrictedPathRules.includes(entry.key)) continue;
      const earlier = active.get(entry.key) ?? [];
      // Replaced for the files this block covers; everywhere when it covers every file.
      const kept = block.files.length === 0 ? [] : earlier.map((ban) => ({ ...ban, allow_in: [...(ban.allow_in ?? []), ...block.files] }));
      const unknown = firstUnknown(entry.value);
      if (unknown) reader.configured.add(entry.key);
      if (unknown) {
        // Options Poolguard cannot read replace the earlier ones for these files: report nothing there.
        reader.notes.push({ path: reader.file, line: unknown.line, message: `${entry.key}: \`${unknown.text}\` is not a literal value; this rule entry was not read` });
        active.set(entry.key, kept);
        continue;
      }
      const parsed = setting(entry.value);
      if (!parsed || (!parsed.off && parsed.options === null)) continue;
      reader.configured.add(entry.key);
      const files = block.files.length > 0 ? block.files : reader.dir ? [`${reader.dir}/**`] : [];
      const scope = { ...(files.length > 0 ? { in: files } : {}), ...(block.ignores.length > 0 ? { allow_in: block.ignores } : {}) };
      const fresh = parsed.off || !parsed.options ? [] : isImports ? restrictedImports(entry.key, parsed.options, reader) : restrictedPaths(entry.key, parsed.options, reader);
      active.set(entry.key, [...kept, ...fresh.map((ban) => ({ ...ban, ...scope }))]);
    }
  }
  return [...active.values()].flat();
}

function origin(reader: Reader, line: number, rule: string) {
  return { file: reader.file, line, tool: "eslint" as const, name: rule };
}

function restrictedImports(rule: string, options: Literal[], reader: Reader): ForbiddenImportConfig[] {
  const bans: ForbiddenImportConfig[] = [];
  const typed = rule.startsWith("@typescript-eslint/");
  const pathEntries: Literal[] = [];
  const patternEntries: Literal[] = [];
  for (const option of options) {
    if (option.kind === "string") pathEntries.push(option);
    else if (option.kind === "object") {
      const paths = property(option, "paths");
      const patterns = property(option, "patterns");
      if (paths?.kind === "array") pathEntries.push(...paths.items);
      if (patterns?.kind === "array") patternEntries.push(...patterns.items);
    }
  }
  for (const item of pathEntries) {
    const name = item.kind === "string" ? item.value : stringValue(property(item, "name"));
    if (!name) continue;
    const policy: DerivedImportPolicy = {
      kind: "eslint-restricted-import",
      origin: origin(reader, item.line, rule),
      name: name.trim(),
      case_sensitive: true,
      allow_type_imports: typed && property(item, "allowTypeImports")?.kind === "boolean" && (property(item, "allowTypeImports") as { value: boolean }).value,
      ...importNameLimits(item),
    };
    bans.push({ from: name, line: item.line, ...messageOf(item), policy });
  }
  // String patterns form one gitignore-style group (negations apply across them).
  const stringPatterns = patternEntries.filter((item) => item.kind === "string") as { value: string; line: number }[];
  if (stringPatterns.length > 0) {
    const group = stringPatterns.map((item) => item.value);
    bans.push({
      from: group.join(", "),
      line: stringPatterns[0].line,
      policy: { kind: "eslint-restricted-import", origin: origin(reader, stringPatterns[0].line, rule), group, case_sensitive: false, allow_type_imports: false },
    });
  }
  for (const item of patternEntries) {
    if (item.kind !== "object") continue;
    const group = stringList(property(item, "group"));
    const regex = stringValue(property(item, "regex"));
    if ((!group || group.length === 0) && !regex) continue;
    if (regex && !validRegex(regex)) {
      reader.notes.push({ path: reader.file, line: item.line, message: `${rule}: pattern regex "${regex}" is not a valid JavaScript regular expression; not read` });
      continue;
    }
    const caseSensitive = property(item, "caseSensitive");
    const allowTypes = property(item, "allowTypeImports");
    bans.push({
      from: regex ?? (group as string[]).join(", "),
      line: item.line,
      ...messageOf(item),
      policy: {
        kind: "eslint-restricted-import",
        origin: origin(reader, item.line, rule),
        ...(regex ? { regex } : { group: group as string[] }),
        case_sensitive: caseSensitive?.kind === "boolean" && caseSensitive.value,
        allow_type_imports: typed && allowTypes?.kind === "boolean" && allowTypes.value,
        ...importNameLimits(item),
      },
    });
  }
  return bans;
}

function validRegex(source: string): boolean {
  try {
    new RegExp(source, "u");
    return true;
  } catch {
    return false;
  }
}

function messageOf(item: Literal): { message?: string } {
  const message = stringValue(property(item, "message"));
  return message ? { message } : {};
}

function importNameLimits(item: Literal) {
  const limits: { import_names?: string[]; allow_import_names?: string[]; import_name_pattern?: string; allow_import_name_pattern?: string } = {};
  const names = stringList(property(item, "importNames"));
  const allowed = stringList(property(item, "allowImportNames"));
  const pattern = stringValue(property(item, "importNamePattern"));
  const allowedPattern = stringValue(property(item, "allowImportNamePattern"));
  if (names && names.length > 0) limits.import_names = names;
  if (allowed && allowed.length > 0) limits.allow_import_names = allowed;
  if (pattern && validRegex(pattern)) limits.import_name_pattern = pattern;
  if (allowedPattern && validRegex(allowedPattern)) limits.allow_import_name_pattern = allowedPattern;
  return limits;
}

/** Zone paths are relative to `basePath`, by default the config's folder (where ESLint runs). */
function zonePath(base: string, value: string): string {
  const joined = base ? `${base}/${value}` : value;
  const parts: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

function restrictedPaths(rule: string, options: Literal[], reader: Reader): ForbiddenImportConfig[] {
  const option = options[0];
  const zones = property(option, "zones");
  if (zones?.kind !== "array") return [];
  const basePathValue = property(option, "basePath");
  const basePath = stringValue(basePathValue);
  if (basePathValue && (basePath === undefined || basePath.startsWith("/"))) {
    reader.notes.push({ path: reader.file, line: basePathValue.line, message: `${rule}: basePath is not a relative literal path; zones not read` });
    return [];
  }
  const base = zonePath(reader.dir, basePath ?? "");
  const bans: ForbiddenImportConfig[] = [];
  for (const zone of zones.items) {
    const targets = stringList(property(zone, "target"));
    const froms = stringList(property(zone, "from"));
    const excepts = stringList(property(zone, "except")) ?? [];
    if (!targets || !froms || targets.length === 0 || froms.length === 0) continue;
    const fromPaths = froms.map((from) => zonePath(base, from));
    // `except` is relative to each `from` folder, or a glob of its own when `from` is one.
    const exceptPaths = excepts.flatMap((except) => (froms.some(isGlob) ? [zonePath(base, except)] : fromPaths.map((from) => zonePath(from, except))));
    const targetPaths = targets.map((target) => zonePath(base, target));
    bans.push({
      from: fromPaths.join(", "),
      line: zone.line,
      ...messageOf(zone),
      policy: { kind: "eslint-restricted-path", origin: origin(reader, zone.line, rule), target: targetPaths, from: fromPaths, except: exceptPaths },
    });
  }
  return bans;
}

export function isGlob(value: string): boolean {
  return /[*?[\]{}!]/.test(value);
}
