import { describe, expect, it } from "vitest";
import { applyEdits } from "../../../../lib/analyzer/fix/apply-edits.ts";
import { typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import type { AnalyzeOptions, SourceInput } from "../../../../lib/analyzer/types.ts";

// The try/finally fix keeps the file's style: no semicolons added to code without them,
// the file's indent unit, only the moved statements re-indented, every other line
// byte-identical; and it calls the release the code already uses.

const options: AnalyzeOptions = {
  config: { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], source: null },
  enabledRules: new Set(typescriptPlugin.rules.map((rule) => rule.id)),
};

function fixOnce(text: string, path = "src/db.ts"): { fixed: string; safety: string | undefined } {
  const files: SourceInput[] = [{ path, text }];
  const index = typescriptPlugin.buildIndex(files, options);
  const findings = typescriptPlugin.analyzeFile({ path, text }, index, options).findings;
  expect(findings).toHaveLength(1);
  const fix = findings[0].fix;
  expect(fix).not.toBeNull();
  const fixed = applyEdits(text, fix!.edits);
  // Verified: the fixed file parses and the finding is gone.
  const after = typescriptPlugin.analyzeFile({ path, text: fixed }, typescriptPlugin.buildIndex([{ path, text: fixed }], options), options);
  expect(after.error).toBeUndefined();
  expect(after.findings).toEqual([]);
  return { fixed, safety: fix?.safety };
}

/** Lines of `before` outside [from, to) (1-based, inclusive-exclusive) must appear unchanged in `after`. */
function expectUntouched(before: string, after: string, moved: number[]): void {
  const beforeLines = before.split("\n");
  const afterLines = new Set(after.split("\n"));
  beforeLines.forEach((line, i) => {
    if (moved.includes(i + 1)) return;
    expect(afterLines.has(line), `line ${i + 1} kept byte-identical: ${JSON.stringify(line)}`).toBe(true);
  });
}

describe("try/finally fix style", () => {
  it("adds no semicolons to code without them and keeps its 4-space indent and quotes", () => {
    const text = [
      "import { Pool } from 'pg'",
      "const pool = new Pool()",
      "",
      "export async function listUsers () {",
      "    const client = await pool.connect()",
      "    const { rows } = await client.query('SELECT * FROM users')",
      "    client.release()",
      "    console.log(rows.length)",
      "    return rows",
      "}",
      "",
    ].join("\n");
    const { fixed, safety } = fixOnce(text);
    expect(safety).toBe("safe");
    expect(fixed).toBe(
      [
        "import { Pool } from 'pg'",
        "const pool = new Pool()",
        "",
        "export async function listUsers () {",
        "    const client = await pool.connect()",
        "    try {",
        "        const { rows } = await client.query('SELECT * FROM users')",
        "        console.log(rows.length)",
        "        return rows",
        "    } finally {",
        "        client.release()",
        "    }",
        "}",
        "",
      ].join("\n"),
    );
    expect(fixed).not.toContain(";");
  });

  it("with semicolons: wraps only the statements that need the client; the rest of the function is not re-indented", () => {
    const text = [
      'import { Pool } from "pg";',
      "",
      "const pool = new Pool();",
      "declare function notify(event: string): void;",
      "",
      "export async function touch(id: number) {",
      "  const client = await pool.connect();",
      '  await client.query("UPDATE users SET seen_at = now() WHERE id = $1", [id]);',
      "  client.release();",
      '  notify("touched");',
      "  return id;",
      "}",
      "",
    ].join("\n");
    const { fixed } = fixOnce(text);
    expect(fixed).toContain(
      [
        "  const client = await pool.connect();",
        "  try {",
        '    await client.query("UPDATE users SET seen_at = now() WHERE id = $1", [id]);',
        "  } finally {",
        "    client.release();",
        "  }",
        '  notify("touched");',
        "  return id;",
      ].join("\n"),
    );
    expectUntouched(text, fixed, [8, 9]);
  });

  it("calls the release helper the code already uses, once", () => {
    const text = [
      'import { Pool, type PoolClient } from "pg";',
      "const pool = new Pool();",
      "function giveBack(client: PoolClient) {",
      "  client.release();",
      "}",
      "export async function count() {",
      "  const client = await pool.connect();",
      '  const result = await client.query("SELECT 1");',
      "  giveBack(client);",
      "  return result.rows;",
      "}",
      "",
    ].join("\n");
    const { fixed } = fixOnce(text);
    expect(fixed).toContain("  } finally {\n    giveBack(client);\n  }");
    expect(fixed.match(/giveBack\(client\)/g)).toHaveLength(1);
  });

  it("offers no fix when the client is handed to another owner on some path", () => {
    const text = [
      'import { Pool } from "pg";',
      "const pool = new Pool();",
      "export async function maybeKeep(keep: boolean) {",
      "  const client = await pool.connect();",
      "  if (keep) return client;",
      '  await client.query("SELECT 1");',
      "}",
      "",
    ].join("\n");
    const path = "src/keep.ts";
    const index = typescriptPlugin.buildIndex([{ path, text }], options);
    const [finding] = typescriptPlugin.analyzeFile({ path, text }, index, options).findings;
    expect(finding.rule).toBe("pool-client-not-released");
    expect(finding.fix).toBeNull();
  });
});

describe("try/finally fix and callbacks that run later", () => {
  const findingsOf = (text: string, path = "src/db.js") => {
    const files: SourceInput[] = [{ path, text }];
    return typescriptPlugin.analyzeFile({ path, text }, typescriptPlugin.buildIndex(files, options), options).findings;
  };

  it("offers no fix when the wrapped code continues in a callback (the finally would end the session first)", () => {
    const text = [
      "const { MongoClient } = require('mongodb');",
      "function example(url, done) {",
      "  MongoClient.connect(url, function (err, client) {",
      "    if (err) return done(err);",
      "    const session = client.startSession();",
      "    client.db('test').collection('c').find({}, { session }).toArray(function (err, docs) {",
      "      client.close();",
      "      done(err, docs);",
      "    });",
      "  });",
      "}",
      "",
    ].join("\n");
    const findings = findingsOf(text);
    expect(findings.map((f) => f.rule)).toEqual(["mongoose-session-not-ended"]);
    expect(findings[0].fix).toBeNull();
  });

  it("still wraps async code whose callbacks run before the function goes on", () => {
    const text = [
      "import { Pool } from 'pg';",
      "const pool = new Pool();",
      "export async function names() {",
      "  const client = await pool.connect();",
      "  const { rows } = await client.query('SELECT name FROM users');",
      "  const names = rows.map((row) => row.name);",
      "  await new Promise((resolve) => setTimeout(resolve, 10));",
      "  client.release();",
      "  return names;",
      "}",
      "",
    ].join("\n");
    const findings = findingsOf(text, "src/names.ts");
    expect(findings.map((f) => f.rule)).toEqual(["pool-client-not-released"]);
    expect(findings[0].fix?.safety).toBe("safe");
  });
});
