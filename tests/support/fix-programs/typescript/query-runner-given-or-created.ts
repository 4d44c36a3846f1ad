// query-runner-not-released: a runner this function creates only when the caller gives it
// none (`given ?? dataSource.createQueryRunner()`), released under the code's own guard
// (`if (!given)`) only after the query succeeded. A failed query leaves the runner it
// created checked out; a runner the caller gave must stay usable afterwards either way.
import "reflect-metadata";
import type pg from "pg";
import { DataSource, type QueryRunner } from "typeorm";

const dataSource = new DataSource({ type: "postgres", url: process.env.FIX_PG_URL, poolSize: 10 });

async function countRows(table: string, given?: QueryRunner): Promise<number> {
  const queryRunner = given ?? dataSource.createQueryRunner();
  const rows = await queryRunner.query(`SELECT count(*)::int AS n FROM ${table}`);
  // release the runner only if it was created here
  if (!given) {
    await queryRunner.release();
  }
  return rows[0].n;
}

async function main(): Promise<void> {
  await dataSource.initialize();
  const results: unknown[] = [];
  const errors: string[] = [];
  const shared = dataSource.createQueryRunner();
  try {
    for (const [table, runner] of [
      ["items", undefined],
      ["missing_table", undefined],
      ["items", shared],
      ["missing_table", shared],
      ["missing_table", undefined],
      ["items", undefined],
      ["missing_table", undefined],
    ] as const) {
      try {
        results.push(await countRows(table, runner));
      } catch (error) {
        errors.push((error as Error).constructor.name);
      }
    }
    // The caller's runner was not released by countRows: it still answers.
    results.push(shared.isReleased, await countRows("items", shared));
  } finally {
    await shared.release();
  }
  // TypeORM's postgres driver keeps its node-postgres pool in `master`.
  const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  console.log(JSON.stringify({ checked_out: pool.totalCount - pool.idleCount, results, errors }));
  process.exit(0);
}

void main();
