import type { ts } from "ts-morph";
import type { AnalyzeOptions, RawFinding, RuleMeta } from "../types.ts";
import type { TypeScriptIndex } from "./build-index.ts";

/** What every TypeScript rule receives for one file. */
export interface RuleContext {
  path: string;
  text: string;
  sourceFile: ts.SourceFile;
  index: TypeScriptIndex;
  options: AnalyzeOptions;
}

export interface TypeScriptRule {
  meta: RuleMeta;
  /**
   * Cheap test on the file's text: false means the rule cannot fire here, so the file
   * needs no parent pointers and no walk for it (most files of a repository).
   */
  applies(text: string): boolean;
  check(context: RuleContext): RawFinding[];
}
