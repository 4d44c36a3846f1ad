import { describe, expect, it } from "vitest";
import { applyEdits } from "../../../../lib/analyzer/fix/apply-edits.ts";
import { typescriptPlugin } from "../../../../lib/analyzer/typescript/plugin.ts";
import type { AnalyzeOptions, RawFinding } from "../../../../lib/analyzer/types.ts";

// transaction-not-finished's fix: the statements from the one after startTransaction() to
// the commit go into try/catch, the catch rolls back (ignoring an error of the rollback
// itself, as TypeORM's managed transaction() does) and rethrows. Safe for TypeORM only
// (executed in tests/integration/fixes), unsafe for knex/Sequelize, none where the code
// already decides differently (a rollback in a branch, no commit on some path, a
// transaction handed on, a second transaction in the range).

const options: AnalyzeOptions = {
  config: { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], source: null },
  enabledRules: new Set(typescriptPlugin.rules.map((rule) => rule.id)),
};

function scan(text: string, path = "src/orders.ts"): RawFinding[] {
  const files = [{ path, text }];
  return typescriptPlugin.analyzeFile({ path, text }, typescriptPlugin.buildIndex(files, options), options).findings;
}

function transactionFindings(text: string): RawFinding[] {
  return scan(text).filter((f) => f.rule === "transaction-not-finished");
}

const typeorm = ['import type { DataSource } from "typeorm";', ""];

describe("rollback-in-catch fix for transaction-not-finished", () => {
  it("wraps the statements up to the commit, keeps the file's style and removes the finding", () => {
    const text = [
      ...typeorm,
      "export async function place(ds: DataSource, id: number) {",
      "    const qr = ds.createQueryRunner()",
      "    try {",
      "        await qr.startTransaction()",
      "        await qr.query('UPDATE stock SET n = n - 1 WHERE id = $1', [id])",
      "        await qr.commitTransaction()",
      "    } finally {",
      "        await qr.release()",
      "    }",
      "}",
      "",
    ].join("\n");
    const [finding] = transactionFindings(text);
    expect(finding?.fix?.safety).toBe("safe");
    const fixed = applyEdits(text, finding.fix?.edits ?? []);
    expect(fixed).toBe(
      [
        ...typeorm,
        "export async function place(ds: DataSource, id: number) {",
        "    const qr = ds.createQueryRunner()",
        "    try {",
        "        await qr.startTransaction()",
        "        try {",
        "            await qr.query('UPDATE stock SET n = n - 1 WHERE id = $1', [id])",
        "            await qr.commitTransaction()",
        "        } catch (error) {",
        "            await qr.rollbackTransaction().catch(() => {})",
        "            throw error",
        "        }",
        "    } finally {",
        "        await qr.release()",
        "    }",
        "}",
        "",
      ].join("\n"),
    );
    expect(scan(fixed)).toEqual([]);
  });

  it("runs the try to the end of the block when a name declared before the commit is used after it", () => {
    const text = [
      ...typeorm,
      "export async function place(ds: DataSource, id: number): Promise<number> {",
      "  const qr = ds.createQueryRunner();",
      "  try {",
      "    await qr.startTransaction();",
      '    const rows = await qr.query("SELECT n FROM stock WHERE id = $1", [id]);',
      "    await qr.commitTransaction();",
      "    return rows.length;",
      "  } finally {",
      "    await qr.release();",
      "  }",
      "}",
      "",
    ].join("\n");
    const [finding] = transactionFindings(text);
    expect(finding?.fix?.safety).toBe("safe");
    const fixed = applyEdits(text, finding.fix?.edits ?? []);
    expect(fixed).toContain(["      return rows.length;", "    } catch (error) {", "      await qr.rollbackTransaction().catch(() => {});", "      throw error;", "    }"].join("\n"));
    expect(transactionFindings(fixed)).toEqual([]);
  });

  it("picks a catch variable the function does not use", () => {
    const text = [
      ...typeorm,
      "export async function place(ds: DataSource, error: string) {",
      "  const qr = ds.createQueryRunner();",
      "  try {",
      "    await qr.startTransaction();",
      '    await qr.query("INSERT INTO log VALUES ($1)", [error]);',
      "    await qr.commitTransaction();",
      "  } finally {",
      "    await qr.release();",
      "  }",
      "}",
      "",
    ].join("\n");
    const [finding] = transactionFindings(text);
    const fixed = applyEdits(text, finding.fix?.edits ?? []);
    expect(fixed).toContain("} catch (err) {");
    expect(fixed).toContain("throw err;");
  });

  it("keeps a rollback the code makes in a branch (the added one after it is refused by TypeORM and ignored)", () => {
    const text = [
      ...typeorm,
      "export async function place(ds: DataSource) {",
      "  const qr = ds.createQueryRunner();",
      "  try {",
      "    await qr.startTransaction();",
      "    const ok = await qr.query('SELECT 1');",
      "    if (!ok) {",
      "      await qr.rollbackTransaction();",
      "      return;",
      "    }",
      "    await qr.commitTransaction();",
      "  } finally {",
      "    await qr.release();",
      "  }",
      "}",
      "",
    ].join("\n");
    const [finding] = transactionFindings(text);
    expect(finding?.fix?.safety).toBe("safe");
    const fixed = applyEdits(text, finding.fix?.edits ?? []);
    expect(fixed.split("\n").filter((line) => line.includes("qr.rollbackTransaction()"))).toEqual(["        await qr.rollbackTransaction();", "      await qr.rollbackTransaction().catch(() => {});"]);
    expect(transactionFindings(fixed)).toEqual([]);
  });

  it("offers a fix in each branch of an if/else that starts its own transaction", () => {
    const text = [
      ...typeorm,
      "export async function place(ds: DataSource, fast: boolean) {",
      "  const qr = ds.createQueryRunner();",
      "  try {",
      "    if (fast) {",
      "      await qr.startTransaction();",
      "      await qr.query('SELECT 1');",
      "      await qr.commitTransaction();",
      "    } else {",
      "      await qr.startTransaction('SERIALIZABLE');",
      "      await qr.query('SELECT 2');",
      "      await qr.commitTransaction();",
      "    }",
      "  } finally {",
      "    await qr.release();",
      "  }",
      "}",
      "",
    ].join("\n");
    const findings = transactionFindings(text);
    expect(findings.map((f) => f.fix?.safety)).toEqual(["safe", "safe"]);
  });

  it("offers no fix when a path never commits, or another transaction is open on the runner", () => {
    const bodies = [
      // An early return with the transaction open: where to commit is a decision about the data.
      ["    await qr.startTransaction();", "    if (skip) return;", "    await qr.query('SELECT 1');", "    await qr.commitTransaction();"],
      // A second transaction (a savepoint) on the same runner inside the range.
      ["    await qr.startTransaction();", "    await qr.startTransaction();", "    await qr.query('SELECT 1');", "    await qr.commitTransaction();", "    await qr.commitTransaction();"],
      // A savepoint inside an outer transaction: its fix would roll back at the wrong depth.
      ["    await qr.startTransaction();", "    if (skip) {", "      await qr.startTransaction();", "      await qr.query('SELECT 1');", "      await qr.commitTransaction();", "    }", "    await qr.commitTransaction();"],
    ];
    for (const body of bodies) {
      const text = [
        ...typeorm,
        "export async function place(ds: DataSource, skip: boolean) {",
        "  const qr = ds.createQueryRunner();",
        "  try {",
        ...body,
        "  } finally {",
        "    await qr.release();",
        "  }",
        "}",
        "",
      ].join("\n");
      const findings = transactionFindings(text);
      expect(findings.length, body.join("\n")).toBeGreaterThan(0);
      for (const finding of findings) expect(finding.fix, body.join("\n")).toBeNull();
    }
  });

  it("offers no fix when the runner is handed on", () => {
    const text = [
      ...typeorm,
      "export async function place(ds: DataSource, jobs: { run(qr: unknown): void }[]) {",
      "  const qr = ds.createQueryRunner();",
      "  await qr.startTransaction();",
      "  jobs.push(qr as never);",
      "  await qr.query('SELECT 1');",
      "  await qr.commitTransaction();",
      "}",
      "",
    ].join("\n");
    const findings = transactionFindings(text);
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) expect(finding.fix).toBeNull();
  });

  it("offers no fix when the runner is released inside the range (the rollback would come after the release)", () => {
    const text = [
      ...typeorm,
      "export async function place(ds: DataSource, id: number) {",
      "  const qr = ds.createQueryRunner();",
      "  await qr.connect();",
      "  await qr.startTransaction();",
      "  try {",
      "    await qr.query('UPDATE stock SET n = n - 1 WHERE id = $1', [id]);",
      "    await qr.commitTransaction();",
      "  } finally {",
      "    await qr.release();",
      "  }",
      "}",
      "",
    ].join("\n");
    const findings = transactionFindings(text);
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) expect(finding.fix).toBeNull();
  });

  it("keeps the fix when the range holds a plain release after the commit (it runs on the normal path only)", () => {
    const text = [
      ...typeorm,
      "export async function place(ds: DataSource, id: number) {",
      "  const qr = ds.createQueryRunner();",
      "  await qr.startTransaction();",
      "  const rows = await qr.query('SELECT n FROM stock WHERE id = $1', [id]);",
      "  await qr.commitTransaction();",
      "  await qr.release();",
      "  return rows;",
      "}",
      "",
    ].join("\n");
    const [finding] = transactionFindings(text);
    expect(finding?.fix?.safety).toBe("safe");
    const fixed = applyEdits(text, finding.fix?.edits ?? []);
    expect(fixed).toContain(["    await qr.release();", "    return rows;", "  } catch (error) {", "    await qr.rollbackTransaction().catch(() => {});"].join("\n"));
  });

  it("labels the same edit unsafe for knex, whose rollback the tests do not execute", () => {
    const text = [
      'import knex from "knex";',
      "",
      'const db = knex({ client: "pg" });',
      "",
      "export async function move(from: number, to: number) {",
      "  const trx = await db.transaction();",
      '  await trx("stock").where({ id: from }).decrement("qty", 1);',
      '  await trx("stock").where({ id: to }).increment("qty", 1);',
      "  await trx.commit();",
      "}",
      "",
    ].join("\n");
    const [finding] = transactionFindings(text);
    expect(finding?.fix?.safety).toBe("unsafe");
    const fixed = applyEdits(text, finding.fix?.edits ?? []);
    expect(fixed).toContain(["    await trx.commit();", "  } catch (error) {", "    await trx.rollback().catch(() => {});", "    throw error;", "  }"].join("\n"));
    expect(transactionFindings(fixed)).toEqual([]);
  });
});
