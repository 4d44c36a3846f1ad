import { describe, expect, it } from "vitest";
import { typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import type { AnalyzeOptions, ResourceConfig, SourceInput } from "../../../../lib/analyzer/types.ts";

// `resources:` in poolguard.yml: the project's own acquire/release pairs go through the
// same models as the built-in libraries.

function options(resources: ResourceConfig[]): AnalyzeOptions {
  return {
    config: { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], resources, source: null },
    enabledRules: new Set(typescriptPlugin.rules.map((rule) => rule.id)),
  };
}

const db: SourceInput = {
  path: "lib/db.ts",
  text: "import { driver } from './driver';\nexport function openClient() {\n  return driver.open();\n}\nexport function closeClient(client: unknown) {\n  driver.close(client);\n}\n",
};

function findings(text: string, resources: ResourceConfig[]): string[] {
  const file = { path: "src/users.ts", text };
  const opts = options(resources);
  const index = typescriptPlugin.buildIndex([db, file], opts);
  return typescriptPlugin.analyzeFile(file, index, opts).findings.map((f) => `${f.rule}:${f.start.line}`);
}

const resources: ResourceConfig[] = [{ acquire: "lib/db#openClient", release: ["close", "lib/db#closeClient"], awaited: true }];

describe("resources config (TypeScript)", () => {
  it("flags a user resource that is not released on every path", () => {
    const text = "import { openClient } from '../lib/db';\nexport async function f() {\n  const client = await openClient();\n  await client.query('x');\n  client.close();\n}\n";
    expect(findings(text, resources)).toEqual(["pool-client-not-released:3"]);
    expect(findings(text, [])).toEqual([]);
  });

  it("a configured release function in finally covers every path", () => {
    const text =
      "import { openClient, closeClient } from '../lib/db';\nexport async function f() {\n  const client = await openClient();\n  try {\n    await client.query('x');\n  } finally {\n    closeClient(client);\n  }\n}\n";
    expect(findings(text, resources)).toEqual([]);
  });

  it("reports under the configured rule", () => {
    const text = "import { openClient } from '../lib/db';\nexport async function f() {\n  const client = await openClient();\n  return 1;\n}\n";
    expect(findings(text, [{ ...resources[0], rule: "query-runner-not-released" }])).toEqual(["query-runner-not-released:3"]);
  });
});
