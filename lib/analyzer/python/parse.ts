import { createRequire } from "node:module";
import type { SyntaxNode, Tree } from "tree-sitter";
import type { Position } from "../types.ts";

// Native tree-sitter (node-gyp build): about twice the speed of the wasm build. One
// parser per thread; trees are freed by the garbage collector.
const require = createRequire(import.meta.url);
type ParserInstance = { parse(text: string): Tree; setLanguage(language: unknown): void };
let parser: ParserInstance | null = null;

/** What a node was asked once (see memoizeNodeReads); undefined: not asked yet. */
class NodeMemo {
  startIndex: number | undefined = undefined;
  endIndex: number | undefined = undefined;
  id: number | undefined = undefined;
  hasError: boolean | undefined = undefined;
  parent: SyntaxNode | null | undefined = undefined;
  namedChildren: SyntaxNode[] | undefined = undefined;
  children: SyntaxNode[] | undefined = undefined;
  startPosition: Position0 | undefined = undefined;
  endPosition: Position0 | undefined = undefined;
  fields: Record<string, SyntaxNode | null> | undefined = undefined;
}

type Position0 = { row: number; column: number };
const memoKey = Symbol("poolguard node memo");
type MemoHolder = { [memoKey]?: NodeMemo };

/**
 * Every read of a node (its offsets, parent, children, a field) crosses into native code
 * and builds its answer afresh; the analysis asks the same nodes the same things many
 * times (half of the index's time went there). Trees are never edited, so each node keeps
 * its first answers. The node objects themselves are tree-sitter's (it hands out the same
 * object for a node while one is alive); arrays are copied out, so a caller may change
 * its own. Same values as without, only fewer native calls.
 */
function memoizeNodeReads(SyntaxNodeClass: { prototype: object }): void {
  const proto = SyntaxNodeClass.prototype as Record<string, unknown>;
  if (Object.hasOwn(proto, "__poolguardMemoized")) return;
  Object.defineProperty(proto, "__poolguardMemoized", { value: true });
  const memo = (node: MemoHolder): NodeMemo => {
    let m = node[memoKey];
    if (!m) {
      // A symbol key: plain assignment (fast), and invisible to Object.keys and JSON.
      m = new NodeMemo();
      node[memoKey] = m;
    }
    return m;
  };
  const original = (name: string) => (Object.getOwnPropertyDescriptor(proto, name) as PropertyDescriptor).get as (this: unknown) => unknown;
  // Each getter keeps its first answer; child lists are handed out as copies, since callers may change them.
  const memoize = (name: Exclude<keyof NodeMemo, "fields">, copy: boolean) => {
    const read = original(name);
    Object.defineProperty(proto, name, {
      configurable: true,
      get(this: MemoHolder) {
        const m = memo(this) as unknown as Record<string, unknown>;
        let v = m[name];
        if (v === undefined) {
          v = read.call(this);
          m[name] = v;
        }
        return copy ? (v as SyntaxNode[]).slice() : v;
      },
    });
  };
  for (const name of ["startIndex", "endIndex", "id", "hasError", "parent", "startPosition", "endPosition"] as const) memoize(name, false);
  for (const name of ["namedChildren", "children"] as const) memoize(name, true);
  const childForFieldName = proto.childForFieldName as (this: unknown, field: string) => SyntaxNode | null;
  proto.childForFieldName = function (this: MemoHolder, field: string): SyntaxNode | null {
    const m = memo(this);
    m.fields ??= Object.create(null) as Record<string, SyntaxNode | null>;
    let v = m.fields[field];
    if (v === undefined) {
      v = childForFieldName.call(this, field);
      m.fields[field] = v;
    }
    return v;
  };
}

function getParser(): ParserInstance {
  if (parser) return parser;
  const Parser = require("tree-sitter") as (new () => ParserInstance) & { SyntaxNode: { prototype: object } };
  memoizeNodeReads(Parser.SyntaxNode);
  const language = require("tree-sitter-python") as unknown;
  parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

// tree-sitter's JS binding refuses strings over 32 KiB unless given a buffer size.
export function parsePython(text: string): Tree {
  const p = getParser() as ParserInstance & { parse(text: string, old?: Tree | null, options?: { bufferSize?: number }): Tree };
  return p.parse(text, null, { bufferSize: Math.max(32 * 1024, text.length * 2 + 1024) });
}

export type { SyntaxNode, Tree };

/** The first syntax error as "syntax error at line N", or null when the file parses. */
export function syntaxError(tree: Tree): string | null {
  if (!tree.rootNode.hasError) return null;
  let found: SyntaxNode | null = null;
  const visit = (node: SyntaxNode) => {
    if (found) return;
    if (node.type === "ERROR" || node.isMissing) {
      found = node;
      return;
    }
    if (!node.hasError) return;
    for (const child of node.children) visit(child);
  };
  visit(tree.rootNode);
  const node = found as SyntaxNode | null;
  const line = node ? node.startPosition.row + 1 : 1;
  return `syntax error at line ${line}${node?.isMissing ? ` (missing ${node.type})` : ""}`;
}

/** 1-based position from a node boundary (tree-sitter's columns are 0-based). */
export function startOf(node: SyntaxNode): Position {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

export function endOf(node: SyntaxNode): Position {
  return { line: node.endPosition.row + 1, column: node.endPosition.column + 1 };
}

export function* walk(node: SyntaxNode): Generator<SyntaxNode> {
  yield node;
  for (const child of node.namedChildren) yield* walk(child);
}

export function isAsyncNode(node: SyntaxNode): boolean {
  return node.children.some((c) => c.type === "async");
}

/** The function's body without descending into nested functions, classes or lambdas. */
export function* walkOwn(node: SyntaxNode): Generator<SyntaxNode> {
  for (const child of node.namedChildren) {
    yield child;
    if (child.type === "function_definition" || child.type === "class_definition" || child.type === "lambda") continue;
    yield* walkOwn(child);
  }
}

/**
 * The nodes of TYPES whose KEYWORD token is one of their own children (`def` of a
 * function_definition, `import` of an import statement), in document order: the same
 * nodes as `root.descendantsOfType(types)` for such types. Found from the keyword's
 * occurrences in the text rather than by visiting every node of the tree, which on a
 * module was most of the cost of listing its imports and functions. A tree with a syntax
 * error is searched the full way: error recovery can make a node without its keyword.
 */
export function nodesByKeyword(root: SyntaxNode, text: string, keyword: string, types: readonly string[]): SyntaxNode[] {
  if (root.hasError || root.startIndex !== 0 || root.endIndex > text.length) return root.descendantsOfType([...types]);
  const found: SyntaxNode[] = [];
  const pattern = new RegExp(`\\b${keyword}\\b`, "g");
  let lastId = -1;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    // Strictly inside the keyword: the smallest node there is the keyword's own token.
    const token = root.descendantForIndex(match.index + 1, match.index + 2);
    if (token.type !== keyword || token.startIndex !== match.index) continue;
    const owner = token.parent;
    if (!owner || !types.includes(owner.type) || owner.id === lastId) continue;
    lastId = owner.id;
    found.push(owner);
  }
  return found;
}

// `descendantsOfType` crosses into the native binding and builds fresh node objects on
// every call; rules that ask the same question of a function body once per acquisition
// made big functions quadratic. Answers are cached per tree (trees never change), for the
// few trees used last only: the project index keeps thousands of trees alive at once, and
// a cache per tree kept every node object it had ever handed out (with the native
// bookkeeping behind each) for the whole index.
const descendantsCache: { tree: Tree; answers: Map<string, SyntaxNode[]> }[] = [];
const cachedTrees = 8;

export function descendantsOf(node: SyntaxNode, types: string | string[]): SyntaxNode[] {
  const tree = node.tree;
  let at = descendantsCache.findIndex((entry) => entry.tree === tree);
  if (at < 0) {
    descendantsCache.unshift({ tree, answers: new Map() });
    if (descendantsCache.length > cachedTrees) descendantsCache.pop();
    at = 0;
  } else if (at > 0) {
    descendantsCache.unshift(...descendantsCache.splice(at, 1));
    at = 0;
  }
  const cache = descendantsCache[at].answers;
  const key = `${node.id}\u0000${types}`;
  let found = cache.get(key);
  if (!found) {
    found = node.descendantsOfType(types);
    cache.set(key, found);
  }
  return found;
}
