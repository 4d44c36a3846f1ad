import { posix } from "node:path";
import type { TypeScriptIndex } from "./build-index.ts";

// Resolve an import specifier to a repository file the way TypeScript's "bundler"
// resolution would, using only the index: relative paths, `.js` written for `.ts`,
// `index` files, tsconfig `paths`/`baseUrl`, workspace package names. Bare package
// names that are not in the repository resolve to null.

const EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".d.ts"];
const JS_TO_TS: Record<string, string[]> = {
  ".js": [".ts", ".tsx"],
  ".jsx": [".tsx"],
  ".mjs": [".mts"],
  ".cjs": [".cts"],
};

export interface Resolver {
  resolve(fromPath: string, specifier: string): string | null;
}

export function createResolver(index: TypeScriptIndex): Resolver {
  const files = new Set(index.files);
  const lookup = (candidate: string): string | null => {
    const normal = posix.normalize(candidate).replace(/^\.\//, "");
    if (normal.startsWith("../")) return null;
    if (files.has(normal)) return normal;
    const ext = posix.extname(normal);
    for (const replacement of JS_TO_TS[ext] ?? []) {
      const mapped = normal.slice(0, -ext.length) + replacement;
      if (files.has(mapped)) return mapped;
    }
    for (const extension of EXTENSIONS) if (files.has(normal + extension)) return normal + extension;
    for (const extension of EXTENSIONS) if (files.has(`${normal}/index${extension}`)) return `${normal}/index${extension}`;
    return null;
  };
  return {
    resolve(fromPath, specifier) {
      if (specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." || specifier === "..") {
        return lookup(posix.join(posix.dirname(fromPath), specifier));
      }
      if (specifier.startsWith("/")) return null;
      const config = index.configs.find((item) => item.dir === "" || fromPath.startsWith(`${item.dir}/`));
      if (config) {
        for (const alias of config.aliases) {
          const star = alias.pattern.indexOf("*");
          let captured: string | null = null;
          if (star < 0) captured = alias.pattern === specifier ? "" : null;
          else {
            const prefix = alias.pattern.slice(0, star);
            const suffix = alias.pattern.slice(star + 1);
            if (specifier.startsWith(prefix) && specifier.endsWith(suffix) && specifier.length >= prefix.length + suffix.length) {
              captured = specifier.slice(prefix.length, specifier.length - suffix.length);
            }
          }
          if (captured === null) continue;
          for (const target of alias.targets) {
            const found = lookup(target.replace("*", captured));
            if (found) return found;
          }
        }
        if (config.baseUrl !== null) {
          const found = lookup(posix.join(config.baseUrl, specifier));
          if (found) return found;
        }
      }
      for (const pkg of index.packages) {
        if (specifier === pkg.name || specifier.startsWith(`${pkg.name}/`)) {
          const rest = specifier.slice(pkg.name.length).replace(/^\//, "");
          const found = lookup(posix.join(pkg.dir, rest === "" ? "index" : rest)) ?? lookup(posix.join(pkg.dir, "src", rest || "index"));
          if (found) return found;
        }
      }
      return null;
    },
  };
}

/** A repository path without its extension or trailing `/index`: the module's name. */
export function moduleOfPath(path: string): string {
  const withoutExt = path.replace(/(\.d)?\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/, "");
  return withoutExt.replace(/\/index$/, "");
}
