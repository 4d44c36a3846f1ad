import { createTwoFilesPatch } from "diff";

/**
 * One file's fixes as a git-style unified diff (a/ and b/ prefixes, paths relative to
 * ROOT), so `poolguard scan --fix --diff > fixes.patch && git apply fixes.patch` works.
 */
export function fileFixPatch(path: string, before: string, after: string): string {
  const patch = createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, undefined, undefined, { context: 3 });
  // jsdiff starts with a line of "=" signs; git's own header goes in its place.
  const body = patch.slice(patch.indexOf("--- "));
  return `diff --git a/${path} b/${path}\n${body}`;
}
