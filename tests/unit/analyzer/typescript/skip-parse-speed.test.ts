import { describe, expect, it } from "vitest";
import { checkForbiddenImports } from "../../../../lib/analyzer/typescript/forbidden-import.ts";
import { parseSource } from "../../../../lib/analyzer/typescript/parse.ts";
import { mayImportBanned, typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import type { AnalyzeOptions, DerivedImportPolicy, ForbiddenImportConfig, SourceInput } from "../../../../lib/analyzer/types.ts";

// A file whose text names nothing the analysis looks for (no acquiring callable of the
// models or of the project's wrappers, no literal a ban's specifier must contain) is not
// parsed at all. These tests pin down that forbidden-import still finds every import it
// found when every file was parsed, and which files still have their syntax checked.

const origin = { file: "eslint.config.mjs", line: 1, tool: "eslint" as const, name: "no-restricted-imports" };

function eslint(policy: Omit<Extract<DerivedImportPolicy, { kind: "eslint-restricted-import" }>, "kind" | "origin" | "allow_type_imports" | "case_sensitive"> & { case_sensitive?: boolean }): ForbiddenImportConfig {
  return { from: "eslint", policy: { kind: "eslint-restricted-import", origin, case_sensitive: false, allow_type_imports: false, ...policy } };
}

const bans: ForbiddenImportConfig[] = [
  { from: "src/lib/db/internal", allow_in: ["src/lib/db/internal/**"] },
  { from: "src/lib/store", message: "a folder module, imported through its index" },
  { from: "src/legacy/*", message: "a banned subtree" },
  { from: "packages/secrets", message: "a workspace package folder" },
  { from: "pg", names: ["Pool"] },
  { from: "src/only-in-admin", in: ["src/admin/**"] },
  eslint({ name: "mysql" }),
  eslint({ group: ["LoDash/*", "!lodash/pick"] }),
  eslint({ group: ["**/private/**"], case_sensitive: true }),
  {
    from: "src/server",
    policy: { kind: "eslint-restricted-path", origin: { ...origin, name: "import/no-restricted-paths" }, target: ["src/client"], from: ["src/server"], except: [] },
  },
];

const files: SourceInput[] = [
  { path: "tsconfig.json", text: JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@/*": ["src/*"], "#vault": ["src/lib/db/internal.ts"], "~old/*": ["src/legacy/*"] } } }) },
  { path: "packages/secrets/package.json", text: JSON.stringify({ name: "@acme/vault" }) },
  { path: "packages/secrets/index.ts", text: "export const key = 1;\n" },
  { path: "src/lib/db/internal.ts", text: "export const raw = 1;\n" },
  { path: "src/lib/store/index.ts", text: "export const store = 1;\n" },
  { path: "src/legacy/old.ts", text: "export const old = 1;\n" },
  { path: "src/server/secret.ts", text: "export const secret = 1;\n" },
  { path: "src/only-in-admin.ts", text: "export const admin = 1;\n" },
  { path: "src/a/relative.ts", text: 'import { raw } from "../lib/db/internal";\nexport const a = raw;\n' },
  { path: "src/a/alias.ts", text: 'import { raw } from "@/lib/db/internal.js";\nexport const a = raw;\n' },
  { path: "src/a/exact-alias.ts", text: 'import { raw } from "#vault";\nexport const a = raw;\n' },
  { path: "src/a/base-url.ts", text: 'import { raw } from "src/lib/db/internal";\nexport const a = raw;\n' },
  { path: "src/a/folder.ts", text: 'import { store } from "../lib/store";\nexport const a = store;\n' },
  { path: "src/lib/store/sub/up.ts", text: 'import { store } from "..";\nimport { store as again } from "../index";\nexport const a = [store, again];\n' },
  { path: "src/a/legacy.ts", text: 'import { old } from "~old/old";\nexport const a = old;\n' },
  { path: "src/a/package.ts", text: 'import { key } from "@acme/vault";\nexport const a = key;\n' },
  { path: "src/a/pg.ts", text: 'import { Pool } from "pg";\nexport const a = Pool;\n' },
  { path: "src/a/only.ts", text: 'import { admin } from "../only-in-admin";\nexport const a = admin;\n' },
  { path: "src/admin/only.ts", text: 'import { admin } from "../only-in-admin";\nexport const a = admin;\n' },
  { path: "src/a/eslint.ts", text: 'import mysql from "mysql";\nimport fp from "lodash/fp";\nimport pick from "lodash/pick";\nimport x from "./private/x";\nexport const a = [mysql, fp, pick, x];\n' },
  { path: "src/client/view.ts", text: 'import { secret } from "../server/secret";\nexport const a = secret;\n' },
  { path: "src/a/require.cjs", text: 'const { raw } = require("../lib/db/internal");\nmodule.exports = raw;\n' },
  // Names nothing any ban could match: not parsed for forbidden-import.
  { path: "src/a/plain.ts", text: 'import { format } from "./format";\nexport const a = format(1);\n' },
  { path: "src/a/format.ts", text: "export function format(n: number) {\n  return String(n);\n}\n" },
];

const options = {
  config: { forbidden_imports: bans, sessions: { factories: [], closers: [] }, rules: {}, ignore: [], source: null },
  enabledRules: new Set(typescriptPlugin.rules.map((rule) => rule.id)),
} as unknown as AnalyzeOptions;

const sources = files.filter((file) => !file.path.endsWith(".json"));

describe("files not parsed for forbidden-import", () => {
  const index = typescriptPlugin.buildIndex(files, options);

  it("find exactly what parsing every file finds", () => {
    let checked = 0;
    for (const file of sources) {
      const sourceFile = parseSource(file.path, file.text);
      const expected = checkForbiddenImports({ path: file.path, text: file.text, sourceFile, index, options });
      const actual = typescriptPlugin.analyzeFile(file, index, options).findings.filter((finding) => finding.rule === "forbidden-import");
      expect({ path: file.path, lines: actual.map((f) => f.start.line) }).toEqual({ path: file.path, lines: expected.map((f) => f.start.line) });
      checked += expected.length;
    }
    // Every shape above is banned somewhere: the comparison is not vacuous.
    expect(checked).toBeGreaterThanOrEqual(16);
  });

  it("skip the files whose text cannot hold a banned specifier", () => {
    const skipped = sources.filter((file) => !mayImportBanned(file, index, options)).map((file) => file.path);
    expect(skipped).toEqual(expect.arrayContaining(["src/a/plain.ts", "src/a/format.ts", "src/a/only.ts"]));
    for (const path of ["src/a/relative.ts", "src/a/exact-alias.ts", "src/lib/store/sub/up.ts", "src/a/legacy.ts", "src/a/package.ts", "src/a/eslint.ts"]) {
      expect(skipped).not.toContain(path);
    }
  });

  it("treat a regex ban as naming every file", () => {
    const withRegex = { ...options, config: { ...options.config, forbidden_imports: [eslint({ regex: "^zz" })] } } as AnalyzeOptions;
    expect(mayImportBanned({ path: "src/a/plain.ts", text: "export const a = 1;\n" }, index, withRegex)).toBe(true);
  });
});

describe("syntax errors", () => {
  const plain = { ...options, config: { ...options.config, forbidden_imports: [] } } as AnalyzeOptions;
  const index = typescriptPlugin.buildIndex([], plain);
  const broken = (text: string) => typescriptPlugin.analyzeFile({ path: "src/broken.ts", text: `${text}\nexport function f( {\n` }, index, plain);

  it("are reported in a file that names a resource", () => {
    expect(broken('import { Pool } from "pg";\nconst pool = new Pool();\nconst c = pool.connect();').error).toMatch(/^syntax error at line \d+: /);
  });

  it("are not looked for in a file that names nothing the analysis checks (it is not parsed)", () => {
    expect(broken("const x = 1;")).toEqual({ findings: [] });
    expect(typescriptPlugin.precheck?.({ path: "src/broken.ts", text: "export function f( {\n" }, plain)).toEqual({ findings: [] });
  });

  it("are reported in a file that names a banned module", () => {
    const banned = { ...options, config: { ...options.config, forbidden_imports: [{ from: "pg" }] } } as AnalyzeOptions;
    const result = typescriptPlugin.analyzeFile({ path: "src/broken.ts", text: 'import pg from "pg";\nexport function f( {\n' }, index, banned);
    expect(result.error).toMatch(/^syntax error at line \d+: /);
  });
});
