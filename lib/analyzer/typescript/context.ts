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
  /** Queries the file's resource analysis (shared by every rule, computed once per file). */
  check(context: RuleContext): RawFinding[];
}
