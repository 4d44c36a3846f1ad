import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import picomatch from "picomatch";
import type { SkippedFile } from "../types.ts";

export type DiscoveredFile = { path: string; absolutePath: string; size: number };

// Folders that hold other people's code or build output: scanning them reports
// findings nobody in the repository can fix.
const vendoredDirectories = new Set([
  "node_modules", "vendor", "site-packages", ".venv", "venv", "env", "dist", "build", "third_party",
  "bower_components", "__pycache__", ".tox", ".mypy_cache", ".next", ".nuxt", "coverage", ".git", ".hg", ".svn",
]);
const generatedNames = [/_pb2(_grpc)?\.py$/, /\.generated\.[a-z]+$/, /\.gen\.[a-z]+$/, /\.d\.ts$/];
const minifiedNames = [/\.min\.[cm]?js$/, /-min\.js$/, /\.bundle\.js$/];

export type DiscoveryOptions = {
  extensions: ReadonlySet<string>;
  /** Exact file names (e.g. tsconfig.json) a plugin wants even without a source extension. */
  fileNames: ReadonlySet<string>;
  ignoreGlobs: readonly string[];
  maxFileBytes: number;
};

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot);
}

/**
 * Walk ROOT: .gitignore files (nested too) and the config's `ignore` globs are
 * respected; vendored, generated, minified, binary and oversized files are skipped
 * with a reason; symlinks are never followed (they could lead outside ROOT).
 */
export function discoverFiles(root: string, options: DiscoveryOptions): { files: DiscoveredFile[]; skipped: SkippedFile[] } {
  const files: DiscoveredFile[] = [];
  const skipped: SkippedFile[] = [];
  const configIgnored = options.ignoreGlobs.length > 0 ? picomatch(options.ignoreGlobs as string[], { dot: true }) : () => false;
  const realRoot = realpathSync(root);

  const visit = (directory: string, rules: { base: string; matcher: Ignore }[]) => {
    const gitignore = join(directory, ".gitignore");
    const scoped = existsSync(gitignore)
      ? [...rules, { base: directory, matcher: ignore().add(readFileSync(gitignore, "utf8")) }]
      : rules;
    let entries: string[];
    try {
      entries = readdirSync(directory).sort();
    } catch {
      return;
    }
    for (const name of entries) {
      const absolutePath = join(directory, name);
      const path = relative(realRoot, absolutePath).split(sep).join("/");
      let stat: ReturnType<typeof lstatSync>;
      try {
        stat = lstatSync(absolutePath);
      } catch {
        continue;
      }
      if (stat.isSymbolicLink()) continue;
      const isDirectory = stat.isDirectory();
      if (isDirectory && name === ".git") continue;
      const gitIgnored = scoped.some(({ base, matcher }) => {
        const within = relative(base, absolutePath).split(sep).join("/");
        return within !== "" && matcher.ignores(isDirectory ? `${within}/` : within);
      });
      if (isDirectory) {
        if (gitIgnored || vendoredDirectories.has(name) || configIgnored(`${path}/`) || configIgnored(path)) continue;
        visit(absolutePath, scoped);
        continue;
      }
      if (!stat.isFile()) continue;
      const wanted = options.extensions.has(extensionOf(name)) || options.fileNames.has(name);
      if (!wanted) continue;
      if (gitIgnored) {
        skipped.push({ path, reason: "gitignored" });
        continue;
      }
      if (configIgnored(path)) {
        skipped.push({ path, reason: "config-ignore" });
        continue;
      }
      if (generatedNames.some((re) => re.test(name))) {
        skipped.push({ path, reason: "generated" });
        continue;
      }
      if (minifiedNames.some((re) => re.test(name))) {
        skipped.push({ path, reason: "minified" });
        continue;
      }
      if (stat.size > options.maxFileBytes) {
        skipped.push({ path, reason: "too-large" });
        continue;
      }
      files.push({ path, absolutePath, size: stat.size });
    }
  };
  visit(realRoot, []);
  return { files, skipped };
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Read a discovered file as text, or say why it is skipped. Binary (a NUL byte or
 * invalid UTF-8), generated (a marker in the first lines) and minified (very long
 * lines) files are recognised from their content.
 */
export function readSource(file: DiscoveredFile): { text: string } | { skip: SkippedFile["reason"] } {
  const bytes = readFileSync(file.absolutePath);
  if (bytes.subarray(0, 8192).includes(0)) return { skip: "binary" };
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { skip: "binary" };
  }
  if (hasGeneratedMarker(text)) return { skip: "generated" };
  const lines = text.length === 0 ? 1 : text.split("\n").length;
  if (text.length > 5000 && text.length / lines > 500) return { skip: "minified" };
  return { text };
}

// Markers tools write into the comment block at the top of files they generate. Only
// comment (and module docstring) text is read, never code: TypeORM's `@Generated()`
// decorator and names like `autoGenerated` are not markers.
const generatedMarkers = [
  /@generated\b/, // Meta's convention; lowercase by definition
  /\bdo not edit\b/i,
  /\bcode generated\b/i,
  /\bgenerated by the protocol buffer compiler\b/i,
  /\b(?:this|the) (?:file|module|code) (?:was|is|has been) (?:automatically |auto-?)generated\b/i,
  /^\W*(?:auto-?generated|automatically generated)\b/i,
  /\b(?:auto-?generated|automatically generated) (?:by|from|file|code|with|using)\b/i,
];

/**
 * The text of the comments (and a Python module docstring) a file starts with: the
 * lines before the first line of code, shebang and blank lines included.
 */
export function leadingComments(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, "").split("\n", 80);
  const out: string[] = [];
  let block: "/*" | '"""' | "'''" | null = null;
  for (const raw of lines) {
    const line = raw.trim();
    if (block) {
      const end = line.indexOf(block === "/*" ? "*/" : block);
      out.push(end >= 0 ? line.slice(0, end) : line);
      if (end >= 0) block = null;
      continue;
    }
    if (line === "" || line.startsWith("#!") || /^["']use strict["'];?$/.test(line)) continue;
    if (line.startsWith("#") || line.startsWith("//")) {
      out.push(line.replace(/^(#|\/\/+)\s*/, ""));
      continue;
    }
    const opener = /^(?:[rRuU]?)(\/\*|"""|''')/.exec(line);
    if (!opener) break;
    const delimiter = opener[1] as "/*" | '"""' | "'''";
    const rest = line.slice(opener[0].length);
    const end = rest.indexOf(delimiter === "/*" ? "*/" : delimiter);
    out.push(end >= 0 ? rest.slice(0, end) : rest);
    if (end < 0) block = delimiter;
    else if (rest.slice(end + (delimiter === "/*" ? 2 : 3)).trim() !== "") break; // code after the comment
  }
  return out.map((line) => line.trim().replace(/^\*+\s*/, "").trim());
}

export function hasGeneratedMarker(text: string): boolean {
  return leadingComments(text).some((line) => generatedMarkers.some((marker) => marker.test(line)));
}

/** True when a file starts with a UTF-8 byte order mark (kept when fixes are written). */
export function hasBom(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(3);
    readSync(fd, buffer, 0, 3, 0);
    return buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf;
  } finally {
    closeSync(fd);
  }
}
