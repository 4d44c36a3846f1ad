import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { applyEdits } from "../../../../lib/analyzer/fix/apply-edits.ts";
import { buildTypeScriptIndex } from "../../../../lib/analyzer/typescript/build-index.ts";
import { typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import { createResolver } from "../../../../lib/analyzer/typescript/resolve.ts";
import type { AnalyzeOptions, RuleId, SourceInput } from "../../../../lib/analyzer/types.ts";

function options(rules: readonly RuleId[] = typescriptPlugin.rules.map((rule) => rule.id), closers: string[] = []): AnalyzeOptions {
  return {
    config: { forbidden_imports: [], sessions: { factories: [], closers }, rules: {}, ignore: [], source: null },
    enabledRules: new Set(rules),
  };
}

function analyze(text: string, path = "src/app.ts", opts = options()) {
  const files: SourceInput[] = [{ path, text }];
  const index = typescriptPlugin.buildIndex(files, opts);
  return typescriptPlugin.analyzeFile({ path, text }, index, opts);
}

function lines(text: string, path?: string, opts?: AnalyzeOptions): string[] {
  return analyze(text, path, opts).findings.map((finding) => `${finding.rule}:${finding.start.line}`);
}

describe("typescript plugin: parsing", () => {
  it("reports a syntax error with its line and no findings", () => {
    const result = analyze("const pool = new Pool();\nexport async function f() {\n  const client = await pool.connect(;\n}\n");
    expect(result.findings).toEqual([]);
    expect(result.error).toMatch(/^syntax error at line 3: /);
  });

  it("parses every supported extension, JSX included", () => {
    const jsx = "export function App() {\n  return <div className=\"x\">{items.map((item) => <Item key={item.id} />)}</div>;\n}\n";
    for (const path of ["a.tsx", "a.jsx"]) expect(analyze(jsx, path).error).toBeUndefined();
    for (const path of ["a.mts", "a.cts", "a.mjs", "a.cjs", "a.js"]) expect(analyze("export const x = 1;\n", path).error).toBeUndefined();
    expect(typescriptPlugin.extensions).toEqual(expect.arrayContaining([".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"]));
  });

  it("ignores the JSON files it only reads for the index", () => {
    const result = analyze('{ "compilerOptions": { "paths": {} } }', "tsconfig.json");
    expect(result).toEqual({ findings: [] });
    expect(() => typescriptPlugin.parseOnly({ path: "package.json", text: "{" })).not.toThrow();
  });

  it("survives generated code nested thousands of levels deep", () => {
    const chain = `const pool = new Pool();\nexport async function f() {\n  const client = await pool.connect();\n  const x = ${Array.from({ length: 20_000 }, (_, i) => `a${i}`).join(" + ")};\n  await client.query(x);\n  client.release();\n}\n`;
    expect(lines(chain)).toEqual(["pool-client-not-released:3"]);
    const nested = `const pool = new Pool();\nexport async function f() {\n  const client = await pool.connect();\n${"if (a) {\n".repeat(3000)}client.release();\n${"}\n".repeat(3000)}}\n`;
    const result = analyze(nested);
    expect(result.findings).toEqual([]);
    expect(result.error).toMatch(/^not analyzed: .*nested too deeply/);
    expect(() => typescriptPlugin.parseOnly({ path: "deep.ts", text: nested })).not.toThrow();
  });

  it("runs only the enabled rules", () => {
    const text = "const pool = new Pool();\nexport async function f() {\n  const client = await pool.connect();\n  return 1;\n}\n";
    expect(lines(text)).toEqual(["pool-client-not-released:3"]);
    expect(lines(text, "src/app.ts", options(["prisma-client-per-call"]))).toEqual([]);
  });
});

describe("typescript plugin: index and import resolution", () => {
  const files: SourceInput[] = [
    {
      path: "tsconfig.json",
      text: '{\n  // comments and trailing commas are fine\n  "extends": "./config/tsconfig.base",\n  "compilerOptions": { "paths": { "@/*": ["src/*"], "~db": ["src/lib/db/index.ts"], }, },\n}\n',
    },
    { path: "config/tsconfig.base.json", text: '{ "compilerOptions": { "baseUrl": ".." } }' },
    { path: "packages/shared/package.json", text: '{ "name": "@acme/shared", "version": "1.0.0" }' },
    { path: "packages/shared/src/index.ts", text: "export const x = 1;\n" },
    { path: "src/lib/db/index.ts", text: "export const db = 1;\n" },
    { path: "src/lib/db/internal.ts", text: "export const raw = 1;\n" },
    { path: "src/app/page.tsx", text: "export default function Page() { return null; }\n" },
  ];
  const index = buildTypeScriptIndex(files);
  const resolver = createResolver(index);

  it("follows extends chains and resolves relative paths against the declaring config", () => {
    expect(index.configs).toEqual([
      { dir: "", baseUrl: "", aliases: [{ pattern: "@/*", targets: ["src/*"] }, { pattern: "~db", targets: ["src/lib/db/index.ts"] }] },
    ]);
  });

  it("resolves relative, .js-for-.ts, index, alias, baseUrl and workspace specifiers", () => {
    expect(resolver.resolve("src/app/page.tsx", "../lib/db/internal")).toBe("src/lib/db/internal.ts");
    expect(resolver.resolve("src/app/page.tsx", "../lib/db/internal.js")).toBe("src/lib/db/internal.ts");
    expect(resolver.resolve("src/app/page.tsx", "../lib/db")).toBe("src/lib/db/index.ts");
    expect(resolver.resolve("src/app/page.tsx", "@/lib/db/internal")).toBe("src/lib/db/internal.ts");
    expect(resolver.resolve("src/app/page.tsx", "~db")).toBe("src/lib/db/index.ts");
    expect(resolver.resolve("src/app/page.tsx", "src/lib/db")).toBe("src/lib/db/index.ts");
    expect(resolver.resolve("src/app/page.tsx", "@acme/shared")).toBe("packages/shared/src/index.ts");
    expect(resolver.resolve("src/app/page.tsx", "pg")).toBeNull();
    expect(resolver.resolve("src/app/page.tsx", "../../../outside")).toBeNull();
  });

  it("is structured-cloneable (it crosses worker threads)", () => {
    expect(structuredClone(index)).toEqual(index);
  });

  it("finds exported Prisma singletons in their common shapes", () => {
    const singletons = buildTypeScriptIndex([
      { path: "a.ts", text: "import { PrismaClient } from '@prisma/client';\nexport const prisma = new PrismaClient();\n" },
      {
        path: "b.ts",
        text: "const g = globalThis as any;\nconst client = g.prisma ?? new PrismaClient();\nexport default client;\n",
      },
      {
        path: "c.ts",
        text: "let prisma;\nif (prod) prisma = new PrismaClient();\nelse { if (!global.cached) global.cached = new PrismaClient(); prisma = global.cached; }\nexport const db = prisma;\n",
      },
      { path: "d.ts", text: "export function make() { return new PrismaClient(); }\n" },
      { path: "e.ts", text: "const f = () => new PrismaClient();\nconst x = globalThis.y ?? f();\nexport { x as shared };\n" },
    ]).prismaSingletons;
    expect(singletons).toEqual([
      { path: "a.ts", exportName: "prisma" },
      { path: "b.ts", exportName: "default" },
      { path: "c.ts", exportName: "db" },
      { path: "e.ts", exportName: "shared" },
    ]);
  });
});

describe("typescript plugin: path analysis", () => {
  const header = "import { Pool } from 'pg';\nconst pool = new Pool();\n";
  const cases: { name: string; body: string; expected: string[] }[] = [
    {
      name: "released in every branch of if/else",
      body: "export async function f(a: boolean) {\n  const client = await pool.connect();\n  if (a) {\n    client.release();\n    return 1;\n  } else {\n    client.release();\n  }\n  return 2;\n}\n",
      expected: [],
    },
    {
      name: "missing in one switch clause",
      body: "export async function f(k: string) {\n  const client = await pool.connect();\n  switch (k) {\n    case 'a':\n      client.release();\n      break;\n    default:\n      return null;\n  }\n  return 1;\n}\n",
      expected: ["pool-client-not-released:4"],
    },
    {
      // An event may never fire ("finish" does not when the connection drops): no proof of release.
      name: "released only from an event handler that may never run",
      body: "export async function f(res: any) {\n  const client = await pool.connect();\n  res.on('finish', () => client.release());\n  return client.query('x');\n}\n",
      expected: ["pool-client-not-released:4"],
    },
    {
      name: "released from .finally() (runs on every outcome)",
      body: "export async function f() {\n  const client = await pool.connect();\n  return client.query('x').finally(() => client.release());\n}\n",
      expected: [],
    },
    {
      name: "handed to a configured closer",
      body: "export async function f() {\n  const client = await pool.connect();\n  const rows = await client.query('x');\n  giveBack(client);\n  return rows;\n}\n",
      expected: [],
    },
    {
      // Kept in a field: the class is responsible, and no method of it releases the client.
      name: "stored on this, never released by the class",
      body: "export class A {\n  client: any;\n  async open() {\n    const client = await pool.connect();\n    this.client = client;\n  }\n}\n",
      expected: ["pool-client-not-released:6"],
    },
    {
      name: "stored on this, released by the class's close method",
      body: "export class A {\n  client: any;\n  async open() {\n    this.client = await pool.connect();\n  }\n  close() {\n    this.client.release();\n  }\n}\n",
      expected: [],
    },
    {
      name: "resolved through a promise",
      body: "export function f() {\n  return new Promise((resolve, reject) => {\n    pool.connect((err, client) => {\n      if (err) return reject(err);\n      resolve(client);\n    });\n  });\n}\n",
      expected: [],
    },
    {
      name: "declared with let outside the try, released in finally",
      body: "export async function f() {\n  let client;\n  try {\n    client = await pool.connect();\n    return await client.query('x');\n  } finally {\n    client?.release();\n  }\n}\n",
      expected: [],
    },
    {
      name: "catch that logs and swallows without releasing",
      body: "export async function f() {\n  const client = await pool.connect();\n  try {\n    await client.query('x');\n    client.release();\n  } catch (error) {\n    console.error(error);\n  }\n}\n",
      expected: ["pool-client-not-released:4"],
    },
  ];
  it.each(cases)("$name", ({ body, expected }) => {
    const result = lines(header + body, "src/app.ts", options(undefined, ["myapp.db.giveBack"]));
    expect(result).toEqual(expected);
  });

  it("offers no try/finally fix when a release sits inside a branch (it would run twice)", () => {
    const text = `${header}export async function f(a: boolean) {\n  const client = await pool.connect();\n  await client.query('x');\n  if (a) {\n    client.release();\n    return;\n  }\n  client.release();\n}\n`;
    const [finding] = analyze(text).findings;
    expect(finding.rule).toBe("pool-client-not-released");
    expect(finding.fix).toBeNull();
  });

  it("offers no fix when the block returns an un-awaited promise that uses the client", () => {
    const text = `${header}export async function f() {\n  const client = await pool.connect();\n  return client.query('x');\n}\n`;
    const [finding] = analyze(text).findings;
    expect(finding.fix).toBeNull();
  });

  it("checks every path of the result callback that holds the only release, and offers no fix there", () => {
    const leaky = `${header}export async function f(res: any) {\n  const client = await pool.connect();\n  client.query('x', (err: Error | null, rows: unknown) => {\n    if (err) return res.status(500).end();\n    client.release();\n    res.json(rows);\n  });\n}\n`;
    const [finding] = analyze(leaky).findings;
    expect(finding.rule).toBe("pool-client-not-released");
    expect(finding.message).toMatch(/not released on every path/);
    // A finally around the caller would release the client before its query finished.
    expect(finding.fix).toBeNull();
    const released = leaky.replace("    if (err) return res.status(500).end();\n    client.release();\n", "    client.release();\n    if (err) return res.status(500).end();\n");
    expect(lines(released)).toEqual([]);
  });

  it("keeps tabs, CRLF line endings and multi-line template literals intact in the fix", () => {
    const text = `${header}export async function f() {\n\tconst client = await pool.connect();\n\tconst sql = \`SELECT *\n  FROM users\`;\n\tconst rows = await client.query(sql);\n\tclient.release();\n\treturn rows;\n}\n`.replace(/\n/g, "\r\n");
    const [finding] = analyze(text).findings;
    expect(finding.fix?.safety).toBe("safe");
    const fixed = applyEdits(text, finding.fix!.edits);
    expect(fixed).toContain("\ttry {\r\n\t\tconst sql = `SELECT *\r\n  FROM users`;\r\n");
    expect(fixed).toContain("\t} finally {\r\n\t\tclient.release();\r\n\t}");
    expect(fixed.match(/client\.release\(\)/g)).toHaveLength(1);
    expect(analyze(fixed).findings).toEqual([]);
  });
});

describe("rule documentation headers", () => {
  const headings = ["## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety", "## Options"];
  const files = [
    ...typescriptPlugin.rules
      .filter((rule) => rule.id !== "forbidden-import")
      .map((rule) => new URL(`../../../../lib/analyzer/typescript/rules/${rule.id}.ts`, import.meta.url)),
    new URL("../../../../lib/analyzer/typescript/forbidden-import.ts", import.meta.url),
  ];
  it.each(files.map((url) => [url.pathname.split("/").pop(), url] as const))("%s has every heading in order", (_name, url) => {
    const text = readFileSync(url, "utf8");
    expect(text.startsWith("/**\n * # ")).toBe(true);
    const header = text.slice(0, text.indexOf("*/"));
    let at = 0;
    for (const heading of headings) {
      const found = header.indexOf(` * ${heading}`, at);
      expect(found, heading).toBeGreaterThan(at);
      at = found;
    }
    expect(header).toContain("```ts");
  });
});
