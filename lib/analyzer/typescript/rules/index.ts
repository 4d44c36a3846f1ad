import type { TypeScriptRule } from "../context.ts";
import * as mongooseSessionNotEnded from "./mongoose-session-not-ended.ts";
import * as poolClientNotReleased from "./pool-client-not-released.ts";
import * as prismaClientPerCall from "./prisma-client-per-call.ts";
import * as queryRunnerNotReleased from "./query-runner-not-released.ts";
import * as transactionNotFinished from "./transaction-not-finished.ts";

// The TypeScript/JavaScript rules, sorted by id. Adding a rule is one line here.
export const typescriptRules: readonly TypeScriptRule[] = [
  mongooseSessionNotEnded,
  poolClientNotReleased,
  prismaClientPerCall,
  queryRunnerNotReleased,
  transactionNotFinished,
];
