import { ts } from "ts-morph";
import { walk } from "./ast.ts";

// Every way a TS/JS file can depend on another module: `import`, `import type`,
// `export ... from`, `import()`, `require()`, `import x = require()`.

export type ImportKind = "import" | "export-from" | "dynamic-import" | "require" | "import-equals";

export interface ImportSite {
  specifier: string;
  /** Imported names: "default", "*" for a namespace/whole module, or the exported name. */
  names: string[];
  typeOnly: boolean;
  kind: ImportKind;
  /** The whole import statement or call, for the finding's range. */
  node: ts.Node;
  /** The string literal holding the specifier (what a rewrite replaces). */
  literal: ts.StringLiteralLike;
  /** Local names bound by the import (for rewriting call sites). */
  bindings: { imported: string; local: string }[];
}

export function collectImports(sourceFile: ts.SourceFile): ImportSite[] {
  const sites: ImportSite[] = [];
  for (const statement of sourceFile.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      sites.push(fromImportDeclaration(statement, statement.moduleSpecifier));
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = statement.exportClause;
      const names =
        clause && ts.isNamedExports(clause) ? clause.elements.map((element) => (element.propertyName ?? element.name).text) : ["*"];
      const typeOnly = statement.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && clause.elements.every((element) => element.isTypeOnly));
      sites.push({ specifier: statement.moduleSpecifier.text, names, typeOnly, kind: "export-from", node: statement, literal: statement.moduleSpecifier, bindings: [] });
    } else if (
      ts.isImportEqualsDeclaration(statement) &&
      ts.isExternalModuleReference(statement.moduleReference) &&
      ts.isStringLiteral(statement.moduleReference.expression)
    ) {
      const literal = statement.moduleReference.expression;
      sites.push({
        specifier: literal.text,
        names: ["*"],
        typeOnly: statement.isTypeOnly,
        kind: "import-equals",
        node: statement,
        literal,
        bindings: [{ imported: "*", local: statement.name.text }],
      });
    }
  }
  walk(sourceFile, (node) => {
    if (!ts.isCallExpression(node) || node.arguments.length !== 1) return true;
    const argument = node.arguments[0];
    if (!ts.isStringLiteralLike(argument)) return true;
    const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
    const isRequire = ts.isIdentifier(node.expression) && node.expression.text === "require";
    if (!isDynamicImport && !isRequire) return true;
    const { names, bindings } = requireBindings(node);
    sites.push({
      specifier: argument.text,
      names,
      typeOnly: false,
      kind: isDynamicImport ? "dynamic-import" : "require",
      node: requireStatement(node),
      literal: argument,
      bindings,
    });
    return true;
  });
  return sites;
}

function fromImportDeclaration(statement: ts.ImportDeclaration, literal: ts.StringLiteral): ImportSite {
  const clause = statement.importClause;
  const names: string[] = [];
  const bindings: { imported: string; local: string }[] = [];
  let typeOnly = clause?.isTypeOnly ?? false;
  if (clause) {
    if (clause.name) {
      names.push("default");
      bindings.push({ imported: "default", local: clause.name.text });
    }
    const named = clause.namedBindings;
    if (named && ts.isNamespaceImport(named)) {
      names.push("*");
      bindings.push({ imported: "*", local: named.name.text });
    } else if (named) {
      for (const element of named.elements) {
        const imported = (element.propertyName ?? element.name).text;
        names.push(imported);
        bindings.push({ imported, local: element.name.text });
      }
      if (!clause.name && named.elements.length > 0 && named.elements.every((element) => element.isTypeOnly)) typeOnly = true;
    }
  } else {
    names.push("*"); // side-effect import: the whole module
  }
  return { specifier: literal.text, names, typeOnly, kind: "import", node: statement, literal, bindings };
}

/** `const { a, b: c } = require("x")` → names a, b; `const x = require("x")` → "*". */
function requireBindings(call: ts.CallExpression): { names: string[]; bindings: { imported: string; local: string }[] } {
  let node: ts.Node = call;
  while (ts.isAwaitExpression(node.parent) || ts.isParenthesizedExpression(node.parent)) node = node.parent;
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.expression === node) {
    return { names: [parent.name.text], bindings: [] };
  }
  if (ts.isVariableDeclaration(parent) && parent.initializer === node) {
    if (ts.isIdentifier(parent.name)) return { names: ["*"], bindings: [{ imported: "*", local: parent.name.text }] };
    if (ts.isObjectBindingPattern(parent.name)) {
      const names: string[] = [];
      const bindings: { imported: string; local: string }[] = [];
      for (const element of parent.name.elements) {
        const imported = element.propertyName && ts.isIdentifier(element.propertyName) ? element.propertyName.text : ts.isIdentifier(element.name) ? element.name.text : null;
        if (!imported) return { names: ["*"], bindings: [] };
        names.push(imported);
        if (ts.isIdentifier(element.name)) bindings.push({ imported, local: element.name.text });
      }
      return { names, bindings };
    }
  }
  return { names: ["*"], bindings: [] };
}

function requireStatement(call: ts.CallExpression): ts.Node {
  return call;
}
