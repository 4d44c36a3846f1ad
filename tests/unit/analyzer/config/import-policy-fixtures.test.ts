import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";
import { key, readExpectations } from "../fixture-expectations.ts";

// Each folder under tests/fixtures/import-policies is a small repository whose import
// rules are stated for another tool (import-linter, ESLint) or with `in:` in its
// poolguard.yml: the forbidden-import findings must be exactly the `ruleid` lines.

const fixtures = join(import.meta.dirname, "../../../fixtures/import-policies");
const folders = readdirSync(fixtures).sort();

async function scanFolder(folder: string) {
  const root = join(fixtures, folder);
  const result = await scan({ root, jobs: 1 });
  expect(result.errors).toEqual([]);
  return result;
}

describe("import policies read from the repository (fixtures)", () => {
  it("has the fixture folders", () => {
    expect(folders).toEqual(
      expect.arrayContaining(["config-in", "eslint-flat", "eslint-legacy-json", "import-linter-ini", "import-linter-pyproject", "import-linter-setup-cfg", "monorepo"]),
    );
  });

  it.each(folders)("%s: forbidden-import findings are exactly the annotations", async (folder) => {
    const { expected, okLines } = readExpectations(join(fixtures, folder), [".py", ".ts", ".tsx"]);
    expect(expected.length).toBeGreaterThan(0);
    const result = await scanFolder(folder);
    const actual = result.findings.filter((f) => f.rule === "forbidden-import").map((f) => key(f)).sort();
    expect(actual).toEqual(expected.map(key).sort());
    for (const ok of okLines) expect(actual).not.toContain(key(ok));
  });

  it("import-linter findings name the contract and where it is stated", async () => {
    const result = await scanFolder("import-linter-ini");
    const first = result.findings.find((f) => f.path === "shop/api/orders.py" && f.line === 2);
    expect(first?.message).toBe(
      'Importing `raw_session` from `shop.db.internal` is forbidden here by the import-linter contract "API does not reach into the database internals" (.importlinter line 4)',
    );
    const pyproject = await scanFolder("import-linter-pyproject");
    expect(pyproject.findings.map((f) => f.message)).toContain(
      'Importing `Engine` from `sqlalchemy.engine` is forbidden here by the import-linter contract "Views never open engines" (pyproject.toml line 15)',
    );
    const setupCfg = await scanFolder("import-linter-setup-cfg");
    expect(setupCfg.findings[0].message).toContain('the import-linter contract "Views use the repository layer" (setup.cfg line 11)');
  });

  it("ESLint findings carry the policy's own message and origin; non-literal parts are notes", async () => {
    const result = await scanFolder("eslint-flat");
    const messages = new Map(result.findings.map((f) => [`${f.path}:${f.line}`, f.message]));
    expect(messages.get("src/web/orders.ts:2")).toBe(
      'Import of "pg" is forbidden here by ESLint\'s no-restricted-imports (eslint.config.mjs line 5): Use the shared pool from src/db.',
    );
    expect(messages.get("src/web/orders.ts:8")).toBe(
      'Import of "../db/internal" is forbidden here by ESLint\'s no-restricted-imports (eslint.config.mjs line 23): Go through src/db.',
    );
    expect(messages.get("src/web/orders.ts:10")).toBe(
      'Import of "../jobs/scheduler" is forbidden here by ESLint\'s import/no-restricted-paths (eslint.config.mjs line 30): The web app does not import job code.',
    );
    expect(result.warnings).toEqual([
      {
        path: "eslint.config.mjs",
        line: 40,
        message: "no-restricted-imports: `restrictedFromEnv()` is not a literal value; this rule entry was not read",
      },
    ]);
    // Findings from derived bans have no fix: the policies name no replacement.
    expect(result.findings.every((f) => f.fix === null)).toBe(true);
  });

  it("an ESLint config is not read when import_policies turns it off", async () => {
    const result = await scanFolder("config-in");
    // The .eslintrc.json bans "react"; only the config's own ban reports in list.tsx.
    expect(result.findings.filter((f) => f.path === "src/components/list.tsx").map((f) => f.line)).toEqual([2]);
    expect(result.findings.find((f) => f.path === "app/models/user.py")?.message).toBe(
      "Importing `engine` from `app.db.engine` is forbidden here by the config (line 4): models get their session from the caller",
    );
  });
});
