// The Python rules, sorted by id. Registering a rule is one line here.
import type { PythonRule } from "../context.ts";
import { rule as connectionNotClosed } from "./connection-not-closed.ts";
import { rule as enginePerCall } from "./engine-per-call.ts";
import { rule as manualAenter } from "./manual-aenter.ts";
import { rule as sessionDependencyNotClosed } from "./session-dependency-not-closed.ts";
import { rule as sessionNotClosed } from "./session-not-closed.ts";
import { rule as sessionSharedAcrossTasks } from "./session-shared-across-tasks.ts";
import { rule as sessionUsedAfterClose } from "./session-used-after-close.ts";
import { rule as sharedModuleSession } from "./shared-module-session.ts";

export const pythonRules: readonly PythonRule[] = [
  connectionNotClosed,
  enginePerCall,
  manualAenter,
  sessionDependencyNotClosed,
  sessionNotClosed,
  sessionSharedAcrossTasks,
  sessionUsedAfterClose,
  sharedModuleSession,
];
