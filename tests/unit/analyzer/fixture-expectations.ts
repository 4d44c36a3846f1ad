import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

// Semgrep-style expectations: a `ruleid: <id>` comment marks the next code line as a
// finding of that rule; `ok: <id>` marks a look-alike that must not be flagged.
export type Expectation = { path: string; line: number; rule: string };

export function sourceFiles(dir: string, extensions: readonly string[]): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name === "__fixed__") continue;
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path, extensions));
    else if (extensions.some((e) => name.endsWith(e))) files.push(path);
  }
  return files;
}

export function readExpectations(root: string, extensions: readonly string[]) {
  const expected: Expectation[] = [];
  const okLines: Expectation[] = [];
  for (const file of sourceFiles(root, extensions)) {
    const path = relative(root, file).split("\\").join("/");
    const lines = readFileSync(file, "utf8").split("\n");
    lines.forEach((text, i) => {
      const match = /(?:#|\/\/)\s*(ruleid|ok):\s*([a-z-]+)/.exec(text);
      if (!match) return;
      // The annotation applies to the next line that is not itself an annotation.
      let target = i + 1;
      while (target < lines.length && /(?:#|\/\/)\s*(ruleid|ok):/.test(lines[target])) target++;
      const entry = { path, line: target + 1, rule: match[2] };
      (match[1] === "ruleid" ? expected : okLines).push(entry);
    });
  }
  return { expected, okLines };
}

export function key(e: { path: string; line: number; rule: string }): string {
  return `${e.path}:${e.line} ${e.rule}`;
}
