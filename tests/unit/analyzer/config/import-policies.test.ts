import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseIni } from "../../../../lib/analyzer/config/import-linter.ts";
import { readImportPolicies } from "../../../../lib/analyzer/config/import-policies.ts";
import { ConfigError, loadConfig, parseConfig } from "../../../../lib/analyzer/config/load-config.ts";
import { listRules } from "../../../../lib/analyzer/rules.ts";

const work = mkdtempSync(join(tmpdir(), "poolguard-policies-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const known = listRules().map((r) => r.id);
const both = { import_linter: true, eslint: true };
let count = 0;

function repo(files: Record<string, string>): string {
  const root = join(work, `repo-${count++}`);
  mkdirSync(root, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function configError(text: string): string {
  try {
    parseConfig(text, "poolguard.yml", known);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("config: in and import_policies", () => {
  it("reads in: and import_policies", () => {
    const config = parseConfig(
      'import_policies:\n  eslint: false\nforbidden_imports:\n  - from: "app.db"\n    in: ["app/models/**"]\n    allow_in: ["app/models/base.py"]\n',
      "poolguard.yml",
      known,
    );
    expect(config.forbidden_imports).toEqual([{ from: "app.db", in: ["app/models/**"], allow_in: ["app/models/base.py"], line: 4 }]);
    expect(config.import_policies).toEqual({ import_linter: true, eslint: false });
    expect(parseConfig("import_policies: false\n", "poolguard.yml", known).import_policies).toEqual({ import_linter: false, eslint: false });
  });

  it.each([
    ["in is not a list", 'forbidden_imports:\n  - from: a\n    in: "app/**"\n', "poolguard.yml:3: forbidden_imports[0].in: expected a list of strings"],
    ["in is empty", "forbidden_imports:\n  - from: a\n    in: []\n", "poolguard.yml:3: forbidden_imports[0].in: expected at least one glob"],
    ["in holds a number", "forbidden_imports:\n  - from: a\n    in:\n      - app/**\n      - 3\n", "poolguard.yml:5: forbidden_imports[0].in[1]: expected a non-empty string"],
    ["unknown policy", "import_policies:\n  pylint: false\n", "poolguard.yml:2: import_policies.pylint: unknown key (expected import_linter or eslint)"],
    ["policy not a boolean", "import_policies:\n  eslint: sometimes\n", "poolguard.yml:2: import_policies.eslint: expected true or false"],
  ])("names file, key and line: %s", (_name, text, expected) => {
    expect(configError(text)).toContain(expected);
  });

  it("loadConfig adds derived bans even without a poolguard.yml, and import_policies opts out", () => {
    const importlinter = "[importlinter]\nroot_package = app\n\n[importlinter:contract:x]\nname = X\ntype = forbidden\nsource_modules = app.a\nforbidden_modules = app.b\n";
    const root = repo({ ".importlinter": importlinter, ".eslintrc.yml": "rules:\n  no-restricted-imports: [error, pg]\n" });
    const config = loadConfig(root, { knownRules: known });
    expect(config.source).toBeNull();
    expect(config.forbidden_imports.map((ban) => [ban.policy?.origin.tool, ban.from])).toEqual([
      ["import-linter", "app.b"],
      ["eslint", "pg"],
    ]);
    const off = repo({ ".importlinter": importlinter, ".eslintrc.yml": "rules:\n  no-restricted-imports: [error, pg]\n", "poolguard.yml": "import_policies:\n  import_linter: false\n" });
    expect(loadConfig(off, { knownRules: known }).forbidden_imports.map((ban) => ban.policy?.origin.tool)).toEqual(["eslint"]);
  });
});

describe("import-linter contracts", () => {
  it("parses configparser INI: continuation lines, comments, ':' separators", () => {
    const sections = parseIni("[a]\nx = 1\ny =\n    one\n    # a comment\n    two\n; comment\n[b]\nz: 3\n");
    expect(sections).toEqual([
      { name: "a", line: 1, values: { x: "1", y: "\none\ntwo" } },
      { name: "b", line: 8, values: { z: "3" } },
    ]);
  });

  it("reads forbidden contracts only, with ignore_imports, as_packages and the root packages", () => {
    const root = repo({
      "setup.cfg": [
        "[importlinter]",
        "root_packages =",
        "    app",
        "    tools",
        "",
        "[importlinter:contract:one]",
        "name = One",
        "type = forbidden",
        "source_modules =",
        "    app.api",
        "forbidden_modules = app.db",
        "ignore_imports =",
        "    app.api.health -> app.db",
        "    this line is not an ignore",
        "as_packages = False",
        "",
        "[importlinter:contract:two]",
        "name = Two",
        "type = layers",
        "layers = app.api",
        "",
        "[importlinter:contract:three]",
        "name = Three",
        "type = forbidden",
        "source_modules = app.api",
        "",
      ].join("\n"),
    });
    const { bans, notes } = readImportPolicies(root, both);
    expect(bans).toEqual([
      {
        from: "app.db",
        line: 6,
        policy: {
          kind: "import-linter-forbidden",
          origin: { file: "setup.cfg", line: 6, tool: "import-linter", name: "One" },
          source_modules: ["app.api"],
          forbidden_modules: ["app.db"],
          ignore_imports: [{ importer: "app.api.health", imported: "app.db" }],
          as_packages: false,
          root_packages: ["app", "tools"],
        },
      },
    ]);
    expect(notes.map((note) => `${note.path}:${note.line}: ${note.message}`)).toEqual([
      'setup.cfg:6: import-linter contract "One": ignore_imports line "this line is not an ignore" not understood; ignored',
      'setup.cfg:22: import-linter contract "Three" has no source_modules or forbidden_modules; not read',
    ]);
  });

  it("a policy file that is a symbolic link is not read (it could lead outside the repository)", () => {
    const outside = repo({ "contracts.ini": "[importlinter]\nroot_package = app\n\n[importlinter:contract:x]\nname = X\ntype = forbidden\nsource_modules = app.a\nforbidden_modules = app.b\n" });
    const linked = repo({});
    symlinkSync(join(outside, "contracts.ini"), join(linked, ".importlinter"));
    symlinkSync(join(outside, "contracts.ini"), join(linked, "pyproject.toml"));
    expect(readImportPolicies(linked, both)).toEqual({ bans: [], notes: [] });
    const copied = repo({ ".importlinter": "[importlinter]\nroot_package = app\n\n[importlinter:contract:x]\nname = X\ntype = forbidden\nsource_modules = app.a\nforbidden_modules = app.b\n" });
    expect(readImportPolicies(copied, both).bans).toHaveLength(1);
  });

  it("an invalid pyproject.toml is a note, not an error", () => {
    const root = repo({ "pyproject.toml": "[tool.importlinter]\nroot_package = \n" });
    const { bans, notes } = readImportPolicies(root, both);
    expect(bans).toEqual([]);
    expect(notes[0].message).toMatch(/^import-linter contracts not read: the file is not valid TOML/);
  });
});

describe("ESLint configs", () => {
  const rule = (ban: { policy?: { kind: string; origin: { name: string } } }) => `${ban.policy?.origin.name}`;

  it("reads .eslintrc.yml with overrides (file names without a slash match in any folder)", () => {
    const root = repo({
      ".eslintrc.yml": [
        "root: true",
        "rules:",
        "  no-restricted-imports:",
        "    - error",
        "    - paths:",
        "        - name: pg",
        "          message: use the pool",
        "overrides:",
        "  - files: ['*.spec.ts']",
        "    rules:",
        "      no-restricted-imports: off",
        "",
      ].join("\n"),
    });
    const { bans } = readImportPolicies(root, both);
    expect(bans.map((ban) => ({ from: ban.from, message: ban.message, allow_in: ban.allow_in, line: ban.line }))).toEqual([
      { from: "pg", message: "use the pool", allow_in: ["**/*.spec.ts"], line: 6 },
    ]);
  });

  it("reads package.json eslintConfig when there is no ESLint file, and ignores it when there is one", () => {
    const pkg = JSON.stringify({ name: "x", eslintConfig: { rules: { "no-restricted-imports": ["warn", { paths: ["mysql"] }] } } }, null, 2);
    expect(readImportPolicies(repo({ "package.json": pkg }), both).bans.map((ban) => [ban.from, ban.policy?.origin.file, ban.line])).toEqual([["mysql", "package.json", 9]]);
    expect(readImportPolicies(repo({ "package.json": pkg, ".eslintrc.json": "{}" }), both).bans).toEqual([]);
  });

  it("a flat config wins over legacy files; module.exports, const arrays and spreads of local values are read", () => {
    const root = repo({
      ".eslintrc.json": '{ "rules": { "no-restricted-imports": ["error", "legacy-only"] } }',
      "eslint.config.cjs": [
        "const shared = require('./shared.cjs');",
        "const banned = ['pg', 'mysql2'];",
        "const restrictions = { paths: [...banned, { name: 'knex', importNames: ['default'] }] };",
        "const scoped = [{ files: ['api/**'], rules: { 'import/no-restricted-paths': ['error', { zones: [{ target: 'api', from: 'web', except: ['public'] }] }] } }];",
        "module.exports = [",
        "  ...shared,",
        "  { rules: { 'no-restricted-imports': ['error', restrictions] } },",
        "  ...scoped,",
        "];",
        "",
      ].join("\n"),
    });
    const { bans, notes } = readImportPolicies(root, both);
    expect(notes).toEqual([]);
    expect(bans.map((ban) => [rule(ban), ban.from, ban.in ?? null])).toEqual([
      ["no-restricted-imports", "pg", null],
      ["no-restricted-imports", "mysql2", null],
      ["no-restricted-imports", "knex", null],
      ["import/no-restricted-paths", "web", ["api/**"]],
    ]);
    expect(bans[3].policy).toMatchObject({ kind: "eslint-restricted-path", target: ["api"], from: ["web"], except: ["web/public"] });
  });

  it("a later block that sets options again replaces the earlier ones for its files; a severity alone keeps them", () => {
    const root = repo({
      "eslint.config.js": [
        "export default [",
        "  { rules: { 'no-restricted-imports': ['error', 'pg'] } },",
        "  { files: ['scripts/**'], rules: { 'no-restricted-imports': ['error', 'mysql2'] } },",
        "  { files: ['src/**'], rules: { 'no-restricted-imports': 'warn' } },",
        "];",
        "",
      ].join("\n"),
    });
    const { bans } = readImportPolicies(root, both);
    expect(bans.map((ban) => [ban.from, ban.in ?? null, ban.allow_in ?? null])).toEqual([
      ["pg", null, ["scripts/**"]],
      ["mysql2", ["scripts/**"], null],
    ]);
  });

  it("legacy configs in sub-folders merge with the root's: a rule set again (or root: true) replaces it there", () => {
    const root = repo({
      ".eslintrc.json": '{ "root": true, "rules": { "no-restricted-imports": ["error", "pg"] } }',
      "packages/a/.eslintrc.json": '{ "rules": { "no-restricted-imports": "off" } }',
      "packages/b/.eslintrc.yml": "rules:\n  import/no-restricted-paths: [error, { zones: [{ target: src, from: lib }] }]\n",
      "packages/c/package.json": '{ "name": "c", "eslintConfig": { "root": true } }',
      "node_modules/x/.eslintrc.json": '{ "rules": { "no-restricted-imports": ["error", "react"] } }',
    });
    const { bans } = readImportPolicies(root, both);
    expect(bans.map((ban) => [ban.policy?.origin.file, ban.from, ban.in ?? null, ban.allow_in ?? null])).toEqual([
      [".eslintrc.json", "pg", null, ["packages/a/**", "packages/c/**"]],
      ["packages/b/.eslintrc.yml", "packages/b/lib", ["packages/b/**"], null],
    ]);
    expect(bans[1].policy).toMatchObject({ target: ["packages/b/src"], from: ["packages/b/lib"] });
  });

  it("a flat config at the root turns legacy files off everywhere; a folder's flat config replaces the root's there", () => {
    const root = repo({
      "eslint.config.js": "export default [{ rules: { 'no-restricted-imports': ['error', 'pg'] } }];\n",
      "apps/web/eslint.config.js": "export default [{ files: ['src/**'], rules: { 'no-restricted-imports': ['error', 'mysql2'] } }];\n",
      "apps/old/.eslintrc.json": '{ "rules": { "no-restricted-imports": ["error", "knex"] } }',
    });
    const { bans } = readImportPolicies(root, both);
    expect(bans.map((ban) => [ban.from, ban.in ?? null, ban.allow_in ?? null])).toEqual([
      ["pg", null, ["apps/web/**"]],
      ["mysql2", ["apps/web/src/**"], null],
    ]);
  });

  it("negated globs: a negated files pattern excludes files, a negated ignore is dropped", () => {
    const root = repo({
      "eslint.config.js": [
        "export default [",
        "  { files: ['src/**', '!src/gen/**'], ignores: ['**/*.test.ts', '!src/keep.test.ts'], rules: { 'no-restricted-imports': ['error', 'pg'] } },",
        "];",
        "",
      ].join("\n"),
    });
    const { bans } = readImportPolicies(root, both);
    expect(bans.map((ban) => [ban.in, ban.allow_in])).toEqual([[["src/**"], ["**/*.test.ts", "src/gen/**"]]]);
  });

  it("never runs the config: non-literal parts are notes, shared configs are skipped silently", () => {
    const root = repo({
      "eslint.config.ts": [
        "import tseslint from 'typescript-eslint';",
        "import { paths } from './restrictions';",
        "export default tseslint.config(",
        "  tseslint.configs.recommended,",
        "  { rules: { 'no-restricted-imports': ['error', { paths }] } },",
        "  { files: globs(), rules: { 'no-restricted-imports': ['error', 'pg'] } },",
        "  { rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['lodash/*'], message: 'no ' + 'lodash' }] }] } },",
        ");",
        "throw new Error('a config that ran would throw');",
        "",
      ].join("\n"),
    });
    const { bans, notes } = readImportPolicies(root, both);
    expect(bans).toEqual([]);
    expect(notes.map((note) => `${note.line}: ${note.message}`)).toEqual([
      "5: no-restricted-imports: `paths` is not a literal value; this rule entry was not read",
      "6: ESLint import restrictions not read: `files`/`ignores` of this config object are not literal strings",
      "7: @typescript-eslint/no-restricted-imports: `'no ' + 'lodash'` is not a literal value; this rule entry was not read",
    ]);
  });

  it("other tools' sections in setup.cfg and a package.json without eslintConfig yield no bans and no notes", () => {
    const root = repo({ "setup.cfg": "[flake8]\nmax-line-length = 100\n", "package.json": '{ "name": "tooling" }' });
    expect(readImportPolicies(root, both)).toEqual({ bans: [], notes: [] });
  });
});
