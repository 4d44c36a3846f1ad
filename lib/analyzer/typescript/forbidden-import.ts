/**
 * # forbidden-import (TypeScript / JavaScript)
 *
 * ## What it does
 * Flags imports the repository's `forbidden_imports` config bans outside `allow_in`:
 * `import`, `import type`, `export ... from`, `import()`, `require()` and
 * `import x = require()`. Relative specifiers and tsconfig/jsconfig `paths`/`baseUrl`
 * aliases are resolved to repository files first, so a ban on `src/lib/db/internal`
 * also catches `../../lib/db/internal`, `./internal.js` and `@/lib/db/internal`.
 * `from` is a repository path (extension and `/index` optional) or a package
 * specifier (`pg`, `@prisma/client`); `from: "src/lib/db/*"` (or `.*`, `/**`) bans a
 * subtree. With `names`, only imports of those names are flagged (a namespace import,
 * `require()` of the whole module and a side-effect import count as all names). With
 * `in`, only the files it names are checked.
 *
 * The repository's ESLint rules are bans too, read from its configs (the root's and
 * those of sub-folders, for the files below them: `eslint.config.{js,mjs,cjs,ts}`, else
 * `.eslintrc.*`, else `package.json` `eslintConfig`): `no-restricted-imports` and
 * `@typescript-eslint/no-restricted-imports`
 * (`paths` with `importNames`/`allowImportNames`, `patterns` with `group`/`regex`, matched
 * against the specifier as written, as ESLint does) and `import/no-restricted-paths`
 * (`zones` with `target`, `from`, `except`, matched on resolved files), each scoped by
 * its config object's `files`/`ignores`. JavaScript configs are parsed, never run: only
 * literal values are read, and a non-literal rule entry is skipped with a warning. The
 * finding carries the policy's `message` and names the file and line it comes from.
 *
 * ## Why is this bad?
 * The team decided there is one sanctioned way to reach the database (say, a
 * module that opens sessions through `get_session()`); importing the internals
 * bypasses pooling, tracing and cleanup, and the bug it causes only shows under load.
 *
 * ## Example
 * ```ts
 * import { rawPool } from "@/lib/db/internal";
 * ```
 *
 * ## Use instead
 * ```ts
 * import { getPool } from "@/lib/db";
 * ```
 *
 * ## Fix safety
 * `use_instead` in the repository's own config is the team's declared fix, and the
 * import is rewritten in the file's own style (quotes, semicolons). `use_instead:
 * "src/lib/db"` replaces the module only (the specifier is written relative to the
 * importing file, or through the same alias when the original used one): safe, and
 * offered only when the index has read the replacement module and it exports every
 * name the import uses. `use_instead: "src/lib/db#getPool"` also replaces the banned
 * name and renames its uses in the file: safe when the replacement module is read and
 * exports the name and the rename is complete (an aliased import, or a name declared
 * only by the import); unsafe when the replacement is a package the scan cannot read,
 * the name is re-exported with `export { }`, or another declaration shares it. No fix
 * for `require()`/`import()`, for imports that mix banned and allowed names, when the
 * new name is already taken in the file, or for ESLint policies.
 *
 * ## Options
 * `allow_type_imports: true` on a `forbidden_imports` entry lets type-only imports
 * (`import type`, `export type ... from`, `import { type X }`) through: they vanish at
 * compile time and cannot open connections. By default they are reported, because a
 * type import is usually the first step towards a value import. `in` limits a ban to
 * some files; `import_policies: { eslint: false }` stops reading ESLint's rules.
 */
import { posix } from "node:path";
import ignore, { type Ignore } from "ignore";
import picomatch from "picomatch";
import { ts } from "ts-morph";
import { describeOrigin } from "../config/import-policies.ts";
import type { DerivedImportPolicy, Fix, ForbiddenImportConfig, RawFinding, RuleMeta, TextEdit } from "../types.ts";
import { isVariableReference, nodeRange, scopeName, walk } from "./ast.ts";
import type { TypeScriptIndex } from "./build-index.ts";
import type { RuleContext } from "./context.ts";
import { collectImports, type ImportSite } from "./imports.ts";
import { createResolver, moduleOfPath, type Resolver } from "./resolve.ts";

export const forbiddenImportRuleMeta: RuleMeta = {
  id: "forbidden-import",
  languages: ["python", "typescript"],
  defaultSeverity: "error",
  fix: "safe",
  summary: "An import the repository's config bans outside allowed paths",
};

interface Target {
  /** Repository module (path without extension and /index) when the specifier resolves. */
  module: string | null;
  /** The repository file it resolves to. */
  file: string | null;
  specifier: string;
}

export function checkForbiddenImports(context: RuleContext): RawFinding[] {
  // import-linter contracts are for Python only.
  const entries = context.options.config.forbidden_imports.filter((entry) => entry.policy?.kind !== "import-linter-forbidden");
  if (entries.length === 0) return [];
  const resolver = createResolver(context.index);
  const findings: RawFinding[] = [];
  for (const site of collectImports(context.sourceFile)) {
    const resolved = resolver.resolve(context.path, site.specifier);
    const target: Target = { module: resolved ? moduleOfPath(resolved) : null, file: resolved, specifier: site.specifier };
    for (const entry of entries) {
      if (!matches(entry, target, site, context.path)) continue;
      findings.push({
        rule: "forbidden-import",
        message: describe(entry, site),
        ...nodeRange(context.sourceFile, site.node),
        fix: entry.use_instead ? rewriteFix(context, site, entry, resolver) : null,
        scope: scopeName(site.node),
      });
      break; // one finding per import, for the first entry that bans it
    }
  }
  return findings;
}

function describe(entry: ForbiddenImportConfig, site: ImportSite): string {
  if (entry.policy) {
    const base = `Import of "${site.specifier}" is forbidden here by ${describeOrigin(entry.policy.origin)}`;
    return entry.message ? `${base}: ${entry.message}` : base;
  }
  const where = entry.line ? ` (forbidden_imports entry at line ${entry.line})` : "";
  const base = `Import of "${site.specifier}" is forbidden here${where}`;
  const reason = entry.message ? `: ${entry.message}` : "";
  const [module, name] = (entry.use_instead ?? "").split("#");
  const instead = !entry.use_instead ? "" : name ? `; use ${name} from ${module} instead` : `; import from ${module} instead`;
  return base + reason + instead;
}

function normalizeModule(value: string): string {
  return value
    .replace(/^\.\//, "")
    .replace(/\/+$/, "")
    .replace(/(\.d)?\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/, "")
    .replace(/\/index$/, "");
}

/** "src/db/*", "src/db/**", "src/db.*" ban the subtree; anything else is one module. */
function banPattern(from: string): { base: string; subtree: boolean } {
  const subtree = /(\/\*\*?|\.\*)$/.test(from);
  return { base: normalizeModule(from.replace(/(\/\*\*?|\.\*)$/, "")), subtree };
}

function moduleMatches(from: string, candidate: string): boolean {
  const { base, subtree } = banPattern(from);
  if (candidate === base) return true;
  return subtree && candidate.startsWith(`${base}/`);
}

function matches(entry: ForbiddenImportConfig, target: Target, site: ImportSite, path: string): boolean {
  if (entry.in?.length && !picomatch(entry.in, { dot: true })(path)) return false;
  if (entry.policy) {
    if (entry.allow_in?.length && picomatch(entry.allow_in, { dot: true })(path)) return false;
    return matchesPolicy(entry.policy, target, site, path);
  }
  if (site.typeOnly && entry.allow_type_imports) return false;
  const hit =
    (target.module !== null && moduleMatches(entry.from, target.module)) ||
    (target.module === null && moduleMatches(entry.from, normalizeModule(target.specifier)));
  if (!hit) return false;
  // The banned module may import its own subtree.
  if (moduleMatches(entry.from, moduleOfPath(path)) || moduleOfPath(path) === banPattern(entry.from).base) return false;
  if (entry.names && entry.names.length > 0) {
    const banned = new Set(entry.names);
    if (!site.names.some((name) => name === "*" || banned.has(name))) return false;
  }
  const allowed = entry.allow_in ?? [];
  return !(allowed.length > 0 && picomatch(allowed, { dot: true })(path));
}

type EslintImportPolicy = Extract<DerivedImportPolicy, { kind: "eslint-restricted-import" }>;

const groupMatchers = new WeakMap<EslintImportPolicy, Ignore>();

/** ESLint's own semantics: the specifier as written, gitignore-style groups, case-insensitive unless told. */
function matchesPolicy(policy: DerivedImportPolicy, target: Target, site: ImportSite, path: string): boolean {
  if (policy.kind === "import-linter-forbidden") return false; // Python only
  if (policy.kind === "eslint-restricted-path") {
    if (!target.file || !policy.target.some((zone) => withinPath(zone, path))) return false;
    if (!policy.from.some((zone) => withinPath(zone, target.file as string))) return false;
    return !policy.except.some((zone) => withinPath(zone, target.file as string));
  }
  const specifier = site.specifier.trim();
  if (policy.name !== undefined && specifier !== policy.name) return false;
  if (policy.regex !== undefined && !new RegExp(policy.regex, policy.case_sensitive ? "u" : "iu").test(specifier)) return false;
  if (policy.group) {
    let matcher = groupMatchers.get(policy);
    if (!matcher) {
      matcher = ignore({ allowRelativePaths: true, ignorecase: !policy.case_sensitive }).add(policy.group);
      groupMatchers.set(policy, matcher);
    }
    if (!matcher.ignores(specifier)) return false;
  }
  if (site.typeOnly && policy.allow_type_imports) return false;
  const limited = policy.import_names || policy.allow_import_names || policy.import_name_pattern || policy.allow_import_name_pattern;
  if (!limited) return true;
  // With name limits, a side-effect import imports no name; a namespace import takes them all.
  if (ts.isImportDeclaration(site.node) && !site.node.importClause) return false;
  if (site.names.includes("*")) return true;
  return site.names.some(
    (name) =>
      (policy.import_names?.includes(name) ?? false) ||
      (policy.allow_import_names !== undefined && !policy.allow_import_names.includes(name)) ||
      (policy.import_name_pattern !== undefined && new RegExp(policy.import_name_pattern, "u").test(name)) ||
      (policy.allow_import_name_pattern !== undefined && !new RegExp(policy.allow_import_name_pattern, "u").test(name)),
  );
}

/** import/no-restricted-paths: a folder contains its files; a glob matches them. */
function withinPath(zone: string, file: string): boolean {
  if (/[*?[\]{}!]/.test(zone)) return picomatch(zone, { dot: true })(file);
  const base = zone.replace(/\/+$/, "");
  return base === "" || file === base || file.startsWith(`${base}/`) || moduleOfPath(file) === normalizeModule(base);
}

function rewriteFix(context: RuleContext, site: ImportSite, entry: ForbiddenImportConfig, resolver: Resolver): Fix | null {
  if (site.kind !== "import" && site.kind !== "export-from") return null;
  const [moduleTarget, newName] = (entry.use_instead ?? "").split("#");
  if (!moduleTarget) return null;
  const specifier = specifierFor(context, site.specifier, moduleTarget, resolver, context.index);
  const quote = context.text[site.literal.getStart(context.sourceFile)];
  const edits: TextEdit[] = [
    { path: context.path, ...nodeRange(context.sourceFile, site.literal), text: `${quote}${specifier}${quote}` },
  ];
  const targetFile = resolver.resolve("", `./${normalizeModule(moduleTarget)}`);
  const exported = targetFile ? context.index.exports[targetFile] : undefined;
  if (!newName) {
    // Safe only when the replacement is known to export every name the import uses.
    if (targetFile && !exported) return null;
    const needed = site.names.filter((name) => name !== "*");
    if (exported && !exported.includes("*") && (site.names.includes("*") || needed.some((name) => !exported.includes(name)))) {
      return null;
    }
    return { safety: "safe", description: `Import from ${specifier} instead of ${site.specifier}`, edits };
  }
  if (exported && !exported.includes("*") && !exported.includes(newName)) return null;
  // Replacing a name: every imported name must be one of the banned ones.
  const banned = new Set(entry.names ?? []);
  if (site.kind !== "import" || site.bindings.length !== 1 || !banned.has(site.bindings[0].imported)) return null;
  const statement = site.node;
  if (!ts.isImportDeclaration(statement)) return null;
  const named = statement.importClause?.namedBindings;
  if (!named || !ts.isNamedImports(named) || named.elements.length !== 1 || statement.importClause?.name) return null;
  const element = named.elements[0];
  const { local } = site.bindings[0];
  // The repository's config declares this rewrite as the fix: safe when it is provably
  // complete (the replacement module is read and exports the name, and every use of the
  // old name is a plain reference that the rename covers).
  const exportsName = exported !== undefined && (exported.includes(newName) || exported.includes("*"));
  let exact = exportsName;
  if (element.propertyName) {
    edits.push({ path: context.path, ...nodeRange(context.sourceFile, element.propertyName), text: newName });
  } else {
    exact &&= !declaredOrExportedElsewhere(context.sourceFile, local, element.name);
    if (nameInUse(context.sourceFile, newName)) return null;
    edits.push({ path: context.path, ...nodeRange(context.sourceFile, element.name), text: newName });
    walk(context.sourceFile, (node) => {
      if (ts.isIdentifier(node) && node.text === local && node !== element.name && isVariableReference(node)) {
        const parent = node.parent;
        if (ts.isShorthandPropertyAssignment(parent)) {
          edits.push({ path: context.path, ...nodeRange(context.sourceFile, node), text: `${local}: ${newName}` });
        } else {
          edits.push({ path: context.path, ...nodeRange(context.sourceFile, node), text: newName });
        }
      }
      return true;
    });
  }
  return {
    safety: exact ? "safe" : "unsafe",
    description: `Import ${newName} from ${specifier} instead of ${local} from ${site.specifier}`,
    edits,
  };
}

/**
 * Uses a rename cannot cover: another declaration of the name (a parameter, a local, a
 * type), a prop or member of that name, and `export { name }`, which would change what
 * the file exports.
 */
function declaredOrExportedElsewhere(sourceFile: ts.SourceFile, name: string, importName: ts.Node): boolean {
  let found = false;
  walk(sourceFile, (node) => {
    if (found) return false;
    if (!ts.isIdentifier(node) || node.text !== name || node === importName) return true;
    const parent = node.parent;
    if (ts.isExportSpecifier(parent)) found = true;
    else if (
      (ts.isVariableDeclaration(parent) ||
        ts.isParameter(parent) ||
        ts.isFunctionDeclaration(parent) ||
        ts.isFunctionExpression(parent) ||
        ts.isClassDeclaration(parent) ||
        ts.isClassExpression(parent) ||
        ts.isBindingElement(parent) ||
        ts.isImportSpecifier(parent) ||
        ts.isImportClause(parent) ||
        ts.isNamespaceImport(parent) ||
        ts.isImportEqualsDeclaration(parent) ||
        ts.isEnumDeclaration(parent) ||
        ts.isModuleDeclaration(parent) ||
        ts.isTypeAliasDeclaration(parent) ||
        ts.isInterfaceDeclaration(parent) ||
        ts.isTypeParameterDeclaration(parent) ||
        // Names the rename walk would touch though they are not the variable: props, members.
        ts.isJsxAttribute(parent) ||
        ts.isPropertySignature(parent) ||
        ts.isMethodSignature(parent) ||
        ts.isEnumMember(parent) ||
        ts.isGetAccessorDeclaration(parent) ||
        ts.isSetAccessorDeclaration(parent) ||
        ts.isNamedTupleMember(parent)) &&
      parent.name === node
    ) {
      found = true;
    }
    return !found;
  });
  return found;
}

function nameInUse(sourceFile: ts.SourceFile, name: string): boolean {
  let used = false;
  walk(sourceFile, (node) => {
    if (ts.isIdentifier(node) && node.text === name && isVariableReference(node)) used = true;
    return !used;
  });
  return used;
}

/** Write `target` the way the original import was written: relative, through an alias, or as a package. */
function specifierFor(context: RuleContext, original: string, target: string, resolver: Resolver, index: TypeScriptIndex): string {
  const file = resolver.resolve("", `./${normalizeModule(target)}`);
  if (!file) return target; // a package, or a path outside the index: write it as configured
  const module = moduleOfPath(file);
  const keepsExtension = /\.(js|ts|mjs|cjs|jsx|tsx)$/.exec(original);
  if (original.startsWith(".")) {
    let relative = posix.relative(posix.dirname(context.path), module);
    if (!relative.startsWith(".")) relative = `./${relative}`;
    // Keep the original's extension style (`./db.js` in NodeNext projects).
    if (keepsExtension) {
      if (file.endsWith(`/index${posix.extname(file)}`)) relative += "/index";
      relative += keepsExtension[0] === ".js" ? ".js" : posix.extname(file);
    }
    return relative;
  }
  const config = index.configs.find((item) => item.dir === "" || context.path.startsWith(`${item.dir}/`));
  for (const alias of config?.aliases ?? []) {
    const star = alias.pattern.indexOf("*");
    if (star < 0) continue;
    const prefix = alias.pattern.slice(0, star);
    if (!original.startsWith(prefix)) continue;
    for (const aliasTarget of alias.targets) {
      const targetPrefix = normalizeModule(aliasTarget.replace(/\*.*$/, ""));
      const base = targetPrefix === "" ? "" : `${targetPrefix}/`;
      if (module.startsWith(base)) return prefix + module.slice(base.length);
    }
  }
  let relative = posix.relative(posix.dirname(context.path), module);
  if (!relative.startsWith(".")) relative = `./${relative}`;
  return relative;
}


