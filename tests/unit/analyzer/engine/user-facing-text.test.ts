import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listRules } from "../../../../lib/analyzer/rules.ts";

// Rule docs, SARIF help and the dashboard's Rules pages speak of users' code: no
// references to this project's own incident notes, issues or internal sources.
const internal = /\bseeds?\s+\d{3}\b|\bissue\s+#?\d+\b|\.\.\/shared\/|\bhelper-\d+\b/i;

describe("user-facing rule text", () => {
  it("never refers to the project's own notes", () => {
    for (const rule of listRules()) expect(rule.docs?.markdown ?? "", rule.id).not.toMatch(internal);
    const dir = new URL("../../../../docs/rules/", import.meta.url).pathname;
    for (const file of readdirSync(dir)) expect(readFileSync(join(dir, file), "utf8"), file).not.toMatch(internal);
  });
});
