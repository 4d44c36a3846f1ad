import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding Poolguard's own package.json (the checkout, or the installed package). */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "bin", "poolguard.mjs"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/**
 * `npm run poolguard -- scan .` runs in Poolguard's own folder, wherever the user
 * stands; npm keeps the user's folder in INIT_CWD. Only Poolguard's own scripts move
 * back there: a team's script that runs `poolguard scan .` means its package root,
 * as every npm script does.
 */
export function userDirectory(env: Record<string, string | undefined>, cwd: string): string {
  const own = packageRoot();
  if (!env.INIT_CWD || !env.npm_lifecycle_event || !env.npm_package_json || !own) return cwd;
  if (!sameDir(dirname(env.npm_package_json), own) || !sameDir(cwd, own)) return cwd;
  return existsSync(env.INIT_CWD) ? env.INIT_CWD : cwd;
}
