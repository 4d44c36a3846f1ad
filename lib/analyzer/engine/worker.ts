import { parentPort, workerData } from "node:worker_threads";
import type { AnalyzeOptions, Language, SourceInput } from "../types.ts";
import { analyzeOne } from "./analyze.ts";

// A worker analyses files one at a time for the pool in run-scan.ts. The indexes are
// sent once at start-up; each message is then one file.
type Init = { indexes: Record<string, unknown>; options: { config: AnalyzeOptions["config"]; enabledRules: string[] } };
const init = workerData as Init;
const options: AnalyzeOptions = { config: init.options.config, enabledRules: new Set(init.options.enabledRules) as AnalyzeOptions["enabledRules"] };

parentPort?.on("message", (message: { id: number; language: Language; file: SourceInput }) => {
  const result = analyzeOne(message.language, message.file, init.indexes[message.language], options);
  parentPort?.postMessage({ id: message.id, result });
});
parentPort?.postMessage({ ready: true });
