// Which files a pull request review needs at a commit. The analyzer reports findings in
// the changed files only, but its project index gives cross-file facts (`from app.db
// import get_conn` makes get_conn() an acquirer because app/db.py says so). Indexing
// the whole repository for every push costs seconds to minutes on a large one, while
// the facts a changed file can use live in the modules it imports, directly or through
// other modules. So the review indexes the changed files, what they import
// (transitively), the project files every TypeScript resolution reads (package.json,
// tsconfig.json) and, since factories kept on attributes or dict keys are project-wide
// facts, any Python file that stores one there.

const pythonImportFrom = /^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]*)/gm;
const pythonImport = /^[ \t]*import[ \t]+([^\n#]+)/gm;
// `self.factory = sessionmaker(...)`, `registry["db"] = create_engine(...)`.
const pythonStoredFactory = /^[ \t]*[\w.]+(?:\.\w+|\[[^\]\n]+\])[ \t]*=[^=\n][^\n]*\b(?:sessionmaker|async_sessionmaker|scoped_session|create_engine|create_async_engine|create_pool|[A-Z]\w*Pool)[ \t]*\(/m;
const jsSpecifier = /(?:\bfrom[ \t]*|\bimport[ \t]*\(?[ \t]*|\brequire[ \t]*\([ \t]*|^[ \t]*import[ \t]+)["']([^"'\n]+)["']/gm;
const jsExtensions = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];
const projectFiles = new Set(["package.json", "tsconfig.json", "jsconfig.json"]);

function isPython(path: string): boolean {
  return path.endsWith(".py");
}

function isScript(path: string): boolean {
  return jsExtensions.some((e) => path.endsWith(e));
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** "src/app/db.py" -> "src.app.db"; "app/__init__.py" -> "app". */
function pythonModule(path: string): { module: string; isPackage: boolean } {
  const withoutExt = path.replace(/\.py$/, "");
  const isPackage = withoutExt === "__init__" || withoutExt.endsWith("/__init__");
  return { module: withoutExt.replace(/\/?__init__$/, "").split("/").join("."), isPackage };
}

function pythonImports(path: string, text: string): string[] {
  const { module, isPackage } = pythonModule(path);
  const out: string[] = [];
  for (const m of text.matchAll(pythonImportFrom)) {
    const dots = m[1].length;
    let target = m[2];
    if (dots > 0) {
      const parts = module.split(".").filter(Boolean);
      const base = isPackage ? parts : parts.slice(0, -1);
      target = [...base.slice(0, Math.max(0, base.length - (dots - 1))), ...(target ? [target] : [])].join(".");
    }
    if (!target) continue;
    out.push(target);
    // `from pkg import sub` may name a submodule.
    for (const name of m[3].replace(/[()]/g, "").split(",")) {
      const imported = name.trim().split(/\s+/)[0];
      if (/^\w+$/.test(imported)) out.push(`${target}.${imported}`);
    }
  }
  for (const m of text.matchAll(pythonImport)) {
    for (const part of m[1].split(",")) {
      const name = part.trim().split(/\s+/)[0];
      if (/^[\w.]+$/.test(name)) out.push(name);
    }
  }
  return out;
}

function dirName(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

/** Index files by module name and by the suffixes a src-layout import may use. */
function pythonModules(paths: Iterable<string>): Map<string, string[]> {
  const byModule = new Map<string, string[]>();
  for (const path of paths) {
    if (!isPython(path)) continue;
    const parts = pythonModule(path).module.split(".").filter(Boolean);
    // "src/app/db.py" answers `app.db` and `src.app.db` (and `db`, for scripts run from their folder).
    for (let i = 0; i < parts.length; i++) {
      const name = parts.slice(i).join(".");
      const list = byModule.get(name);
      if (list) list.push(path);
      else byModule.set(name, [path]);
    }
  }
  return byModule;
}

function scriptCandidates(from: string, specifier: string, present: Set<string>, stems: Map<string, string[]>): string[] {
  const found: string[] = [];
  const probe = (stem: string) => {
    const noJs = stem.replace(/\.(?:js|jsx|mjs|cjs)$/, "");
    for (const candidate of [stem, ...jsExtensions.map((e) => noJs + e), ...jsExtensions.map((e) => `${stem}/index${e}`)]) {
      if (present.has(candidate)) {
        found.push(candidate);
        return;
      }
    }
  };
  if (specifier.startsWith(".")) {
    probe(normalize(`${dirName(from)}/${specifier}`));
    return found;
  }
  // Path aliases (`@/lib/db`, `~/db`) and baseUrl imports: match the path's tail.
  const bare = specifier.replace(/^(?:@\/|~\/|#)/, "");
  for (const path of stems.get(bare.replace(/\.(?:js|jsx|mjs|cjs|ts|tsx)$/, "")) ?? []) found.push(path);
  return found;
}

/** Paths without their extension (and without /index), by every tail (`lib/db` for src/lib/db.ts). */
function scriptStems(paths: Iterable<string>): Map<string, string[]> {
  const stems = new Map<string, string[]>();
  for (const path of paths) {
    if (!isScript(path)) continue;
    const stem = path.replace(/\.[^./]+$/, "").replace(/\/index$/, "");
    const parts = stem.split("/");
    for (let i = 0; i < parts.length; i++) {
      const tail = parts.slice(i).join("/");
      const list = stems.get(tail);
      if (list) list.push(path);
      else stems.set(tail, [path]);
    }
  }
  return stems;
}

/**
 * The files to write for a review at one commit: the changed files present there, what
 * they import (transitively), project files, and Python files storing a factory on an
 * attribute or key. `texts` holds every file of the commit (path -> text).
 */
export function reviewScope(texts: Map<string, string>, changed: Iterable<string>): Set<string> {
  const present = new Set(texts.keys());
  const scope = new Set<string>();
  const queue: string[] = [];
  const add = (path: string) => {
    if (scope.has(path) || !present.has(path)) return;
    scope.add(path);
    queue.push(path);
  };
  for (const path of changed) add(path);
  for (const path of present) {
    if (projectFiles.has(baseName(path))) add(path);
    else if (isPython(path) && pythonStoredFactory.test(texts.get(path) ?? "")) add(path);
  }
  let modules: Map<string, string[]> | null = null;
  let stems: Map<string, string[]> | null = null;
  while (queue.length > 0) {
    const path = queue.shift() as string;
    const text = texts.get(path) ?? "";
    if (isPython(path)) {
      modules ??= pythonModules(present);
      for (const name of pythonImports(path, text)) {
        // The module, and the packages on its way (their __init__ may re-export).
        const parts = name.split(".");
        for (let i = 1; i <= parts.length; i++) for (const file of modules.get(parts.slice(0, i).join(".")) ?? []) add(file);
      }
    } else if (isScript(path)) {
      stems ??= scriptStems(present);
      for (const m of text.matchAll(jsSpecifier)) for (const file of scriptCandidates(path, m[1], present, stems)) add(file);
    }
  }
  return scope;
}
