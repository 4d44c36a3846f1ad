import { ts } from "ts-morph";

// We parse with the TypeScript compiler that ts-morph bundles, calling
// `ts.createSourceFile` directly: ts-morph's `Project` wrappers keep every file and
// wrapper node alive and cost ~3x the parse time (see bench/RESULTS.md), while the
// rules only need the syntax tree of one file at a time. No program, no type checker,
// no file-system access: each call is independent, so it runs in any worker thread
// and memory stays flat (the tree is garbage once the caller drops it).

export const TYPESCRIPT_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"] as const;

export function scriptKindFor(path: string): ts.ScriptKind {
  const lower = path.toLowerCase();
  if (lower.endsWith(".tsx")) return ts.ScriptKind.TSX;
  if (lower.endsWith(".jsx")) return ts.ScriptKind.JSX;
  if (lower.endsWith(".js") || lower.endsWith(".mjs") || lower.endsWith(".cjs")) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

export function parseSource(path: string, text: string, setParentNodes = true): ts.SourceFile {
  // Parent pointers: the rules walk upwards (enclosing function, enclosing try). They
  // cost ~25% of the parse, so analyzeFile asks for them only when a rule applies.
  return ts.createSourceFile(path, text, ts.ScriptTarget.Latest, setParentNodes, scriptKindFor(path));
}

interface ParentSetter {
  setParentRecursive?: (node: ts.Node, incremental: boolean) => void;
}

/**
 * Add parent pointers to a tree parsed without them. `setParentRecursive` is internal
 * to TypeScript (exported on the namespace since 4.x); if a future release hides it we
 * parse again with parents, which is correct, only slower.
 */
export function withParents(sourceFile: ts.SourceFile): ts.SourceFile {
  const setter = (ts as unknown as ParentSetter).setParentRecursive;
  if (typeof setter === "function") {
    setter(sourceFile, false);
    return sourceFile;
  }
  return parseSource(sourceFile.fileName, sourceFile.text, true);
}

/** Parse without parent pointers: the cheapest full parse, the benchmark's floor. */
export function parseOnlySource(path: string, text: string): void {
  ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, scriptKindFor(path));
}

interface WithParseDiagnostics {
  parseDiagnostics?: readonly ts.DiagnosticWithLocation[];
}

/** "syntax error at line N: message" for the first parse diagnostic, or null. */
export function syntaxError(sourceFile: ts.SourceFile): string | null {
  // parseDiagnostics is internal but stable across TypeScript releases; ts-morph reads
  // the same field. The public getter needs a Program.
  const diagnostics = (sourceFile as unknown as WithParseDiagnostics).parseDiagnostics ?? [];
  const first = diagnostics[0];
  if (!first) return null;
  const { line } = sourceFile.getLineAndCharacterOfPosition(first.start ?? 0);
  const message = ts.flattenDiagnosticMessageText(first.messageText, " ");
  return `syntax error at line ${line + 1}: ${message}`;
}
