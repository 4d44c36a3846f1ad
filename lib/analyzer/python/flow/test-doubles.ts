import { descendantsOf, type SyntaxNode } from "../parse.ts";
import { type CallFacts, lookupBinding, type ModuleResolver, staticVal } from "./resolve.ts";

// Values that look like acquisitions but are test doubles, so nobody owns anything:
// - inside a test function (or a test class) that patches the acquiring callable with
//   unittest.mock / pytest-mock / monkeypatch (`mock.patch("app.db.sqlite3.connect")`,
//   `@patch.object(asyncpg, "connect")`, `monkeypatch.setattr(db, "get_conn", fake)`), a call
//   of that callable, or of a helper that returns what that callable makes, yields the mock;
// - a function of the file named like a session factory (`_session_maker(session)`) whose
//   every return/yield is one of its own parameters hands back an existing value: the name is
//   no proof of a factory when the body says otherwise.

/** The acquisition `call` (resolved to `returns`) is a test double or a borrowed value, not a fresh resource. */
export function isTestDouble(call: SyntaxNode, returns: string, facts: CallFacts, r: ModuleResolver): boolean {
  if (facts.origin === "convention" && returnsOnlyParams(call)) return true;
  const targets = patchedTargets(call, r);
  if (targets.length === 0) return false;
  const callee = call.childForFieldName("function")?.text ?? "";
  // `patch("app.storage.sqlite3.connect")` covers a `sqlite3.connect(...)` call; `asyncpg.connect` does not.
  return targets.some((target) => (callee !== "" && (target === callee || target.endsWith(`.${callee}`))) || makes(target, returns, r));
}

/** The patched callable (or, through the project index, a helper) creates values of this type. */
function makes(target: string, returns: string, r: ModuleResolver): boolean {
  const parts = target.split(".");
  // `mock.patch("app.db.sqlite3.connect")` patches sqlite3.connect as app.db sees it.
  for (let i = 0; i < parts.length - 1; i++) {
    const name = parts.slice(i).join(".");
    const entry = r.registry.exports.get(name);
    if (entry && (entry.call?.returns === returns || entry.construct?.returns === returns || entry.type === returns)) return true;
  }
  const project = lookupBinding(r.index, target);
  if (project?.k === "fn") {
    const summary = r.summaryOf(project.name);
    if (summary && (summary.returnsFresh === returns || summary.yieldsType === returns)) return true;
  }
  return false;
}

/** Qualified names patched in the enclosing test functions and classes (their decorators included). */
function patchedTargets(call: SyntaxNode, r: ModuleResolver): string[] {
  const targets: string[] = [];
  for (let node = call.parent; node; node = node.parent) {
    if (node.type !== "function_definition" && node.type !== "class_definition") continue;
    const scope = node.parent?.type === "decorated_definition" ? node.parent : node;
    if (!/patch|setattr/.test(scope.text)) continue;
    for (const patch of descendantsOf(scope, "call")) {
      const target = patchTarget(patch, r);
      if (target) targets.push(target);
    }
  }
  return targets;
}

const patchCallee = /(^|\.)patch(\.object)?$|(^|\.)setattr$/;

function patchTarget(patch: SyntaxNode, r: ModuleResolver): string | null {
  const callee = patch.childForFieldName("function")?.text ?? "";
  if (!patchCallee.test(callee)) return null;
  const args = (patch.childForFieldName("arguments")?.namedChildren ?? []).filter((a) => a.type !== "keyword_argument" && a.type !== "comment");
  const first = args[0];
  if (!first) return null;
  const second = args[1];
  const objectForm = callee.endsWith(".object") || (callee.endsWith("setattr") && second?.type === "string" && first.type !== "string");
  if (!objectForm) return first.type === "string" ? literal(first) : null;
  if (second?.type !== "string") return null;
  const attribute = literal(second);
  const owner = staticVal(first, r);
  if (owner.k === "module" || owner.k === "fn" || owner.k === "class" || owner.k === "export") return `${owner.name}.${attribute}`;
  return `${first.text}.${attribute}`;
}

function literal(node: SyntaxNode): string {
  return node.text.replace(/^[rbuf]*["']+|["']+$/gi, "");
}

// The file's function definitions by name, listed once per tree: looking them up by walking
// the whole file for every call made analysis quadratic in the number of functions.
const definitionsByTree = new WeakMap<object, Map<string, SyntaxNode[]>>();

function definitionsNamed(call: SyntaxNode, name: string): SyntaxNode[] {
  const tree = call.tree;
  let byName = definitionsByTree.get(tree);
  if (!byName) {
    byName = new Map();
    for (const def of descendantsOf(tree.rootNode, "function_definition")) {
      const defName = def.childForFieldName("name")?.text;
      if (!defName) continue;
      const list = byName.get(defName);
      if (list) list.push(def);
      else byName.set(defName, [def]);
    }
    definitionsByTree.set(tree, byName);
  }
  return byName.get(name) ?? [];
}

/** `def _session_maker(session): yield session`: a function of this file that hands back one of its parameters. */
function returnsOnlyParams(call: SyntaxNode): boolean {
  const fn = call.childForFieldName("function");
  if (fn?.type !== "identifier") return false;
  const defs = definitionsNamed(call, fn.text);
  if (defs.length !== 1) return false;
  const def = defs[0];
  const params = new Set<string>();
  for (const p of def.childForFieldName("parameters")?.namedChildren ?? []) {
    const id = p.type === "identifier" ? p : p.namedChildren.find((c) => c.type === "identifier");
    if (id) params.add(id.text);
  }
  const outputs: (SyntaxNode | null)[] = [];
  const walk = (node: SyntaxNode) => {
    for (const child of node.namedChildren) {
      if (child.type === "function_definition" || child.type === "lambda" || child.type === "class_definition") continue;
      if (child.type === "return_statement" || child.type === "yield") outputs.push(child.namedChildren[0] ?? null);
      walk(child);
    }
  };
  const body = def.childForFieldName("body");
  if (!body) return false;
  walk(body);
  let handsBackParam = false;
  for (const value of outputs) {
    if (!value || value.text === "None") continue;
    if (value.type !== "identifier" || !params.has(value.text)) return false;
    handsBackParam = true;
  }
  return handsBackParam;
}
