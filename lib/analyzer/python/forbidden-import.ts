/**
 * # forbidden-import (Python)
 *
 * ## What it does
 * Flags imports that the repository's `forbidden_imports` config bans outside
 * `allow_in`: `import a.b`, `import a.b as c`, `from a.b import c as d`, relative imports
 * (resolved to absolute module names from the file's path, so `from ..db import
 * async_session` inside `src/routes/` is `src.db`), and `importlib.import_module("a.b")`.
 * `from: "pkg.*"` bans a whole subtree; `names` limits the ban to those names.
 *
 * ## Why is this bad?
 * The team decided on one sanctioned way to open a session (seed 003: `get_session()`);
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
 * With `use_instead: "pkg.module.name"` the fix rewrites the imported name in the
 * `from ... import` statement and renames its uses in the file (unaliased imports);
 * with `use_instead: "pkg.module"` on a module ban it rewrites the module. Unsafe: the
 * replacement is a different function and may behave differently. No fix for `import
 * a.b` statements, `importlib` calls, or when the new name is already imported.
 *
 * ## Options
 * The `forbidden_imports` list in the config (`from`, `names`, `allow_in`,
 * `use_instead`, `message`).
 */
import picomatch from "picomatch";
import type { ForbiddenImportConfig, RawFinding, RuleMeta, TextEdit } from "../types.ts";
import { importedModule, moduleName } from "./build-index.ts";
import { finding, isReference, type PythonRuleContext } from "./context.ts";
import type { SyntaxNode } from "./parse.ts";

export const meta: RuleMeta = {
  id: "forbidden-import",
  languages: ["python"],
  defaultSeverity: "error",
  fix: "unsafe",
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
  for (const statement of ctx.root.descendantsOfType(["import_statement", "import_from_statement"])) {
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
  for (const call of ctx.root.descendantsOfType("call")) {
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

function fixFor(ctx: PythonRuleContext, all: readonly ImportSite[], site: ImportSite, entry: ForbiddenImportConfig) {
  if (!entry.use_instead || !site.name || !site.nameNode || site.statement.type !== "import_from_statement") return null;
  const dot = entry.use_instead.lastIndexOf(".");
  const newModule = entry.use_instead.slice(0, dot);
  const newName = entry.use_instead.slice(dot + 1);
  if (dot <= 0 || newModule !== site.module) return null;
  // Already imported under that name: renaming would duplicate it.
  if (all.some((s) => s.statement.type === "import_from_statement" && (s.alias ?? s.name) === newName)) return null;
  const edits: TextEdit[] = [
    {
      path: ctx.path,
      start: { line: site.nameNode.startPosition.row + 1, column: site.nameNode.startPosition.column + 1 },
      end: { line: site.nameNode.endPosition.row + 1, column: site.nameNode.endPosition.column + 1 },
      text: newName,
    },
  ];
  if (!site.alias) {
    // A local that shadows the name somewhere would make renaming wrong: give up.
    for (const assignment of ctx.root.descendantsOfType(["assignment", "parameters", "function_definition"])) {
      if (assignment.type === "function_definition" && assignment.childForFieldName("name")?.text === newName) return null;
      if (assignment.type !== "function_definition" && assignment.descendantsOfType("identifier").some((id) => id.text === newName)) return null;
    }
    for (const id of ctx.root.descendantsOfType("identifier")) {
      if (id.text !== site.name || !isReference(id)) continue;
      if (id.startIndex >= site.statement.startIndex && id.endIndex <= site.statement.endIndex) continue;
      if (id.parent?.type === "import_from_statement" || id.parent?.type === "dotted_name" || id.parent?.type === "aliased_import") continue;
      edits.push({
        path: ctx.path,
        start: { line: id.startPosition.row + 1, column: id.startPosition.column + 1 },
        end: { line: id.endPosition.row + 1, column: id.endPosition.column + 1 },
        text: newName,
      });
    }
  }
  return { safety: "unsafe" as const, description: `Import \`${newName}\` from \`${newModule}\` instead of \`${site.name}\`${site.alias ? "" : " and update its uses"}`, edits };
}

export function checkForbiddenImports(ctx: PythonRuleContext): RawFinding[] {
  const entries = ctx.options.config.forbidden_imports;
  if (entries.length === 0) return [];
  const findings: RawFinding[] = [];
  const all = sites(ctx);
  for (const site of all) {
    for (const entry of entries) {
      if (!banned(site, entry)) continue;
      if (entry.allow_in?.length && picomatch(entry.allow_in, { dot: true })(ctx.path)) continue;
      const what = site.name ? `\`${site.name}\` from \`${site.module}\`` : `\`${site.module}\``;
      const base = `Importing ${what} is forbidden here by the config (line ${entry.line ?? "?"})`;
      findings.push(finding(meta.id, site.node, entry.message ? `${base}: ${entry.message}` : entry.use_instead ? `${base}; use \`${entry.use_instead}\`` : base, fixFor(ctx, all, site, entry)));
      break;
    }
  }
  return findings;
}
