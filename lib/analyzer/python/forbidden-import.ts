/**
 * # forbidden-import (Python)
 *
 * ## What it does
 * Flags imports that the repository's `forbidden_imports` config bans outside
 * `allow_in`: `import a.b`, `import a.b as c`, `from a.b import c as d`, relative imports
 * (resolved to absolute module names from the file's path, so `from ..db import
 * async_session` inside `src/routes/` is `src.db`), and `importlib.import_module("a.b")`.
 * `from: "pkg.*"` bans a whole subtree; `names` limits the ban to those names; `in`
 * limits it to the files it names.
 *
 * The repository's import-linter contracts of type `forbidden` (in `.importlinter`,
 * `setup.cfg` or `pyproject.toml`, at the root or in a project's folder) are bans too:
 * `source_modules` and their submodules may not import `forbidden_modules` or theirs
 * (`*`/`**` wildcards, `as_packages`, `ignore_imports` as import-linter reads them;
 * modules are named from the root package, so `src/` layouts work). Only direct
 * imports are checked. The finding names the contract and the line where it is written.
 *
 * ## Why is this bad?
 * The team decided on one sanctioned way to open a session (say, `get_session()`);
 * importing the raw factory bypasses it, and the leaks only show in production.
 *
 * ## Example
 * ```python
 * from src.db import async_session
 *
 * async with async_session() as session:
 *     ...
 * ```
 *
 * ## Use instead
 * ```python
 * from src.db import get_session
 *
 * async with get_session() as session:
 *     ...
 * ```
 *
 * ## Fix safety
 * `use_instead` in the repository's own config is the team's declared fix. With
 * `use_instead: "pkg.module.name"` the fix rewrites the imported name (and the module,
 * when the statement imports only that name; a relative import stays relative) and
 * renames its uses in the file. Safe when the rewrite is provably complete: an aliased
 * import (only the import changes), or a name that only the import binds and that the
 * file uses as plain references. Unsafe when the name is also a parameter, an
 * assignment or loop target, appears in a string (`__all__`, `getattr`), or the file is
 * a package `__init__` that other modules may import it from. A module ban with
 * `use_instead: "pkg.module"` rewrites the module: unsafe, the new module may not
 * export the name. No fix for `import a.b` statements, `importlib` calls, when the new
 * name is already used in the file, or for import-linter contracts.
 *
 * ## Options
 * The `forbidden_imports` list in the config (`from`, `names`, `in`, `allow_in`,
 * `use_instead`, `message`); `import_policies: { import_linter: false }` stops reading
 * import-linter contracts.
 */
import picomatch from "picomatch";
import { describeOrigin } from "../config/import-policies.ts";
import type { DerivedImportPolicy, Fix, ForbiddenImportConfig, RawFinding, RuleMeta, TextEdit } from "../types.ts";
import { importedModule, moduleName } from "./build-index.ts";
import { finding, isReference, type PythonRuleContext } from "./context.ts";
import { nodesByKeyword, type SyntaxNode } from "./parse.ts";

export const meta: RuleMeta = {
  id: "forbidden-import",
  languages: ["python"],
  defaultSeverity: "error",
  fix: "safe",
  summary: "An import the repository's config bans outside allowed paths",
};

type ImportSite = { module: string; name: string | null; alias: string | null; node: SyntaxNode; nameNode: SyntaxNode | null; statement: SyntaxNode };

function moduleMatches(pattern: string, module: string): boolean {
  if (pattern.endsWith(".*")) {
    const base = pattern.slice(0, -2);
    return module === base || module.startsWith(`${base}.`);
  }
  return module === pattern;
}

function sites(ctx: PythonRuleContext): ImportSite[] {
  const found: ImportSite[] = [];
  const { isPackage } = moduleName(ctx.path);
  for (const statement of nodesByKeyword(ctx.root, ctx.text, "import", ["import_statement", "import_from_statement"])) {
    if (statement.type === "import_statement") {
      for (const name of statement.childrenForFieldName("name")) {
        const dotted = name.type === "aliased_import" ? (name.childForFieldName("name")?.text ?? "") : name.text;
        found.push({ module: dotted, name: null, alias: null, node: name, nameNode: null, statement });
      }
      continue;
    }
    const moduleNode = statement.childForFieldName("module_name");
    if (!moduleNode) continue;
    const module = importedModule(moduleNode, ctx.module, isPackage);
    for (const name of statement.childrenForFieldName("name")) {
      const nameNode = name.type === "aliased_import" ? name.childForFieldName("name") : name;
      const alias = name.type === "aliased_import" ? (name.childForFieldName("alias")?.text ?? null) : null;
      // `from src import db` imports the module src.db as much as the name db.
      found.push({ module, name: nameNode?.text ?? "", alias, node: name, nameNode, statement });
    }
  }
  // Walking every call of a file is costly; most files never call import_module.
  const calls = ctx.text.includes("import_module") ? ctx.root.descendantsOfType("call") : [];
  for (const call of calls) {
    if (!/(^|\.)import_module$/.test(call.childForFieldName("function")?.text ?? "")) continue;
    const first = call.childForFieldName("arguments")?.namedChildren[0];
    if (first?.type !== "string") continue;
    const module = first.text.replace(/^[rbuf]*["']|["']$/g, "");
    found.push({ module, name: null, alias: null, node: call, nameNode: null, statement: call });
  }
  return found;
}

function banned(site: ImportSite, entry: ForbiddenImportConfig): boolean {
  const full = site.name ? `${site.module}.${site.name}` : site.module;
  if (entry.names && entry.names.length > 0) {
    if (site.name) return moduleMatches(entry.from, site.module) && entry.names.includes(site.name);
    return false;
  }
  return moduleMatches(entry.from, site.module) || (site.name !== null && moduleMatches(entry.from, full));
}

type LinterPolicy = Extract<DerivedImportPolicy, { kind: "import-linter-forbidden" }>;

/** import-linter module expressions: `*` is one segment, `**` any number; packages include their submodules. */
const patterns = new Map<string, RegExp>();

function modulePattern(pattern: string, withSubmodules: boolean): RegExp {
  const key = `${withSubmodules ? "+" : "="}${pattern}`;
  const cached = patterns.get(key);
  if (cached) return cached;
  const parts = pattern.split(".").map((part) => (part === "**" ? "[^.]+(?:\\.[^.]+)*" : part === "*" ? "[^.]+" : part.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&")));
  const compiled = new RegExp(`^${parts.join("\\.")}${withSubmodules ? "(?:\\..+)?" : ""}$`);
  patterns.set(key, compiled);
  return compiled;
}

/**
 * Module names as import-linter sees them: from the root package down, so a file at
 * `src/mypackage/one.py` is `mypackage.one` (the `src.` prefix is the path, not the name).
 */
function linterNames(ctx: PythonRuleContext, policy: LinterPolicy): { importer: string | null; strip: (module: string) => string } {
  // A project in a folder of the repository (its config is there): names start below it.
  const slash = policy.origin.file.lastIndexOf("/");
  const folder = slash < 0 ? "" : `${policy.origin.file.slice(0, slash).split("/").join(".")}.`;
  const local = folder && ctx.module.startsWith(folder) ? ctx.module.slice(folder.length) : ctx.module;
  const parts = local.split(".");
  const startsRoot = (i: number) => {
    const rest = parts.slice(i).join(".");
    return policy.root_packages.some((root) => rest === root || rest.startsWith(`${root}.`));
  };
  // Files outside the root packages are not in import-linter's graph at all.
  const at = policy.root_packages.length === 0 ? 0 : parts.findIndex((_part, i) => startsRoot(i));
  if (at < 0) return { importer: null, strip: (module) => module };
  const prefix = folder + parts.slice(0, at).map((part) => `${part}.`).join("");
  return {
    importer: parts.slice(at).join("."),
    strip: (module) => (prefix && module.startsWith(prefix) ? module.slice(prefix.length) : module),
  };
}

function bannedByContract(ctx: PythonRuleContext, site: ImportSite, policy: LinterPolicy): boolean {
  const { importer, strip } = linterNames(ctx, policy);
  if (!importer) return false;
  if (!policy.source_modules.some((source) => modulePattern(source, policy.as_packages).test(importer))) return false;
  // `from a.b import c` imports a.b, or the submodule a.b.c: either can be the forbidden one.
  const imported = [strip(site.module), ...(site.name ? [strip(`${site.module}.${site.name}`)] : [])];
  if (!policy.forbidden_modules.some((forbidden) => imported.some((module) => modulePattern(forbidden, policy.as_packages).test(module)))) return false;
  const ignored = policy.ignore_imports.some(
    (ignore) => modulePattern(ignore.importer, false).test(importer) && imported.some((module) => modulePattern(ignore.imported, false).test(module)),
  );
  return !ignored;
}

function applies(ctx: PythonRuleContext, site: ImportSite, entry: ForbiddenImportConfig): boolean {
  const policy = entry.policy;
  if (policy && policy.kind !== "import-linter-forbidden") return false; // an ESLint policy: TypeScript only
  if (policy ? !bannedByContract(ctx, site, policy) : !banned(site, entry)) return false;
  if (entry.in?.length && !picomatch(entry.in, { dot: true })(ctx.path)) return false;
  return !(entry.allow_in?.length && picomatch(entry.allow_in, { dot: true })(ctx.path));
}

function edit(ctx: PythonRuleContext, node: SyntaxNode, text: string): TextEdit {
  return {
    path: ctx.path,
    start: { line: node.startPosition.row + 1, column: node.startPosition.column + 1 },
    end: { line: node.endPosition.row + 1, column: node.endPosition.column + 1 },
    text,
  };
}

const bindingParents = new Set([
  "parameters", "lambda_parameters", "default_parameter", "typed_parameter", "typed_default_parameter",
  "list_splat_pattern", "dictionary_splat_pattern", "global_statement", "nonlocal_statement", "delete_statement",
  "as_pattern_target", "keyword_pattern", "for_in_clause",
]);

/** True when `name` is bound somewhere in the file other than by `site` (a parameter, an assignment, a def, ...). */
function reboundElsewhere(ctx: PythonRuleContext, site: ImportSite, name: string): boolean {
  for (const id of ctx.root.descendantsOfType("identifier")) {
    if (id.text !== name) continue;
    if (id.startIndex >= site.statement.startIndex && id.endIndex <= site.statement.endIndex) continue;
    const parent = id.parent;
    if (!parent) continue;
    if (bindingParents.has(parent.type)) return true;
    if ((parent.type === "function_definition" || parent.type === "class_definition") && parent.childForFieldName("name")?.id === id.id) return true;
    if (parent.type === "aliased_import" || parent.type === "dotted_name" || parent.type === "import_from_statement") return true;
    // Assignment targets, also inside tuples/lists: `old = ...`, `a, old = ...`, `for old in ...`, `with x as old`.
    for (let node: typeof parent | null = parent, child = id; node; child = node, node = node.parent) {
      if (node.type === "pattern_list" || node.type === "tuple_pattern" || node.type === "list_pattern" || node.type === "tuple" || node.type === "list" || node.type === "parenthesized_expression") continue;
      if ((node.type === "assignment" || node.type === "augmented_assignment" || node.type === "for_statement") && node.childForFieldName("left")?.id === child.id) return true;
      if (node.type === "as_pattern" || node.type === "named_expression") return node.namedChildren.at(-1)?.id === child.id || node.childForFieldName("name")?.id === child.id;
      break;
    }
  }
  return false;
}

/** The replacement module, written relative when the original import was relative. */
function moduleText(ctx: PythonRuleContext, original: SyntaxNode, target: string): string {
  if (original.type !== "relative_import") return target;
  const prefix = original.namedChildren.find((c) => c.type === "import_prefix")?.text ?? ".";
  const { isPackage } = moduleName(ctx.path);
  const parts = ctx.module.split(".").filter(Boolean);
  const base = (isPackage ? parts : parts.slice(0, -1)).slice(0, Math.max(0, (isPackage ? parts.length : parts.length - 1) - (prefix.length - 1)));
  const baseName = base.join(".");
  if (baseName && target.startsWith(`${baseName}.`)) return prefix + target.slice(baseName.length + 1);
  return target;
}

/**
 * The `use_instead` rewrite. The repository's config declares it as the team's fix, so
 * it is safe when the rewrite is provably complete: an aliased import (only the import
 * changes), or an unaliased one whose name the import alone binds and the file uses
 * only as plain references (no strings naming it, no re-export from a package
 * `__init__`). Anything else is unsafe.
 */
function fixFor(ctx: PythonRuleContext, all: readonly ImportSite[], site: ImportSite, entry: ForbiddenImportConfig): Fix | null {
  if (!entry.use_instead || entry.policy || !site.name || !site.nameNode || site.statement.type !== "import_from_statement") return null;
  const moduleNode = site.statement.childForFieldName("module_name");
  if (!moduleNode) return null;
  const names = site.statement.childrenForFieldName("name");
  // Without `names`, the ban is on a module and `use_instead` names the module to use.
  if (!entry.names?.length) {
    if (site.name === "*" || moduleMatches(entry.use_instead, site.module)) return null;
    return {
      safety: "unsafe",
      description: `Import \`${site.name}\` from \`${entry.use_instead}\` instead of \`${site.module}\``,
      edits: [edit(ctx, moduleNode, moduleText(ctx, moduleNode, entry.use_instead))],
    };
  }
  const dot = entry.use_instead.lastIndexOf(".");
  if (dot <= 0) return null;
  const newModule = entry.use_instead.slice(0, dot);
  const newName = entry.use_instead.slice(dot + 1);
  // Another module: only when this import is the statement's only name (no statement to split).
  if (newModule !== site.module && names.length !== 1) return null;
  // Already imported under that name: renaming would duplicate it.
  if (all.some((s) => s.statement.type === "import_from_statement" && (s.alias ?? s.name) === newName)) return null;
  const edits: TextEdit[] = [edit(ctx, site.nameNode, newName)];
  if (newModule !== site.module) edits.unshift(edit(ctx, moduleNode, moduleText(ctx, moduleNode, newModule)));
  const from = newModule !== site.module ? ` from \`${newModule}\`` : "";
  if (site.alias) {
    return { safety: "safe", description: `Import \`${newName}\`${from} as \`${site.alias}\` instead of \`${site.name}\``, edits };
  }
  // Renaming would capture or be captured by another use of the new name.
  if (ctx.root.descendantsOfType("identifier").some((id) => id.text === newName && isReference(id))) return null;
  for (const id of ctx.root.descendantsOfType("identifier")) {
    if (id.text !== site.name || !isReference(id)) continue;
    if (id.startIndex >= site.statement.startIndex && id.endIndex <= site.statement.endIndex) continue;
    if (id.parent?.type === "import_from_statement" || id.parent?.type === "dotted_name" || id.parent?.type === "aliased_import") continue;
    edits.push(edit(ctx, id, newName));
  }
  const word = new RegExp(`\\b${site.name}\\b`);
  const exact =
    !reboundElsewhere(ctx, site, site.name) &&
    !ctx.root.descendantsOfType("string").some((str) => word.test(str.text)) &&
    !moduleName(ctx.path).isPackage &&
    !Object.values(ctx.index.modules).some((facts) => Object.values(facts.imports).includes(`${ctx.module}.${site.name}`));
  return {
    safety: exact ? "safe" : "unsafe",
    description: `Import \`${newName}\`${from} instead of \`${site.name}\` and update its uses`,
    edits,
  };
}

function message(site: ImportSite, entry: ForbiddenImportConfig): string {
  const what = site.name ? `\`${site.name}\` from \`${site.module}\`` : `\`${site.module}\``;
  if (entry.policy) {
    const base = `Importing ${what} is forbidden here by ${describeOrigin(entry.policy.origin)}`;
    return entry.message ? `${base}: ${entry.message}` : base;
  }
  const base = `Importing ${what} is forbidden here by the config (line ${entry.line ?? "?"})`;
  return entry.message ? `${base}: ${entry.message}` : entry.use_instead ? `${base}; use \`${entry.use_instead}\`` : base;
}

export function checkForbiddenImports(ctx: PythonRuleContext): RawFinding[] {
  // ESLint's policies are for TypeScript and JavaScript only.
  const entries = ctx.options.config.forbidden_imports.filter((entry) => !entry.policy || entry.policy.kind === "import-linter-forbidden");
  if (entries.length === 0) return [];
  const findings: RawFinding[] = [];
  const all = sites(ctx);
  for (const site of all) {
    const entry = entries.find((candidate) => applies(ctx, site, candidate));
    if (entry) findings.push(finding(meta.id, site.node, message(site, entry), fixFor(ctx, all, site, entry)));
  }
  return findings;
}
