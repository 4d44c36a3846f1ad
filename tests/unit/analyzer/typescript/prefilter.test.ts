import { describe, expect, it } from "vitest";
import { acquisitionLiteral, asIdentifiers } from "../../../../lib/analyzer/typescript/flow/analyze-file.ts";
import { emptyFlowIndex, modelsFor } from "../../../../lib/analyzer/typescript/flow/file-facts.ts";
import { typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import type { AnalyzeOptions, SourceInput } from "../../../../lib/analyzer/types.ts";

// Files and functions are analysed only when they name something that can acquire a
// resource (the models' callables and the project's wrappers, learnt by the index), as a
// whole identifier. These tests pin down what the prefilter may and may not skip.

const options = {
  config: { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], source: null },
  enabledRules: new Set(typescriptPlugin.rules.map((rule) => rule.id)),
} as unknown as AnalyzeOptions;

describe("the acquisition prefilter", () => {
  const literal = asIdentifiers(acquisitionLiteral({ registry: modelsFor(options).registry, flow: emptyFlowIndex() }));

  it("matches the models' callables as identifiers", () => {
    expect(literal.test("const client = await pool.connect();")).toBe(true);
    expect(literal.test("const runner = dataSource.createQueryRunner()")).toBe(true);
    expect(literal.test('const c = pool["getConnection"]()')).toBe(true);
    expect(literal.test("new PrismaClient()")).toBe(true);
  });

  it("does not match the same words inside longer names", () => {
    expect(literal.test("this.connection.manager.find(User)")).toBe(false);
    expect(literal.test("getConnectionManager().get()")).toBe(false);
    expect(literal.test("if (this.transactionDepth > 0) return")).toBe(false);
    expect(literal.test("await prisma.$connect()")).toBe(false);
  });

  const files: SourceInput[] = [
    {
      path: "src/db.ts",
      text: [
        'import { DataSource } from "typeorm";',
        'export const dataSource = new DataSource({ type: "postgres" });',
        "export function getRunner() {",
        "  return dataSource.createQueryRunner();",
        "}",
        "",
      ].join("\n"),
    },
    {
      // Names no library callable: reached only through the project's wrapper.
      path: "src/users.ts",
      text: [
        'import { getRunner } from "./db";',
        "export async function countUsers() {",
        "  const runner = getRunner();",
        '  const rows = await runner.query("select count(*) from users");',
        "  return rows[0];",
        "}",
        "",
      ].join("\n"),
    },
    {
      // Mentions connections everywhere but acquires nothing.
      path: "src/report.ts",
      text: ["export function describeConnection(connectionName: string) {", "  return `transactions of ${connectionName}`;", "}", ""].join("\n"),
    },
  ];

  it("still analyses a file that reaches a resource only through a wrapper's name", () => {
    const index = typescriptPlugin.buildIndex(files, options);
    expect(index.flow?.summaries["src/db.ts#getRunner"]?.returnsFresh).toBeTruthy();
    const users = typescriptPlugin.analyzeFile(files[1], index, options);
    expect(users.error).toBeUndefined();
    expect(users.findings.map((f) => [f.rule, f.start.line])).toEqual([["query-runner-not-released", 3]]);
    expect(typescriptPlugin.analyzeFile(files[2], index, options)).toEqual({ findings: [] });
  });

  it("reports a file that does not parse when it names a project wrapper", () => {
    const index = typescriptPlugin.buildIndex(files, options);
    const broken = typescriptPlugin.analyzeFile({ path: "src/broken.ts", text: "const r = getRunner();\nexport function f( {\n" }, index, options);
    expect(broken.findings).toEqual([]);
    expect(broken.error).toMatch(/^syntax error at line \d+: /);
  });

  it("does not parse a file that names nothing it looks for (so its syntax is not checked)", () => {
    const index = typescriptPlugin.buildIndex(files, options);
    expect(typescriptPlugin.analyzeFile({ path: "src/broken.ts", text: "export function f( {\n" }, index, options)).toEqual({ findings: [] });
  });
});
