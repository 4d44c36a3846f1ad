// query-runner-not-released: a TypeORM query runner released only on the normal path.
import "reflect-metadata";
import type pg from "pg";
import { DataSource } from "typeorm";

const dataSource = new DataSource({ type: "postgres", url: process.env.FIX_PG_URL, poolSize: 10 });

async function countRows(table: string): Promise<number> {
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  const rows = await queryRunner.query(`SELECT count(*)::int AS n FROM ${table}`);
  await queryRunner.release();
  return rows[0].n;
}

async function main(): Promise<void> {
  await dataSource.initialize();
  const results: number[] = [];
  const errors: string[] = [];
  for (const table of ["items", "missing_table", "items", "missing_table", "missing_table"]) {
    try {
      results.push(await countRows(table));
    } catch (error) {
      errors.push((error as Error).constructor.name);
    }
  }
  // TypeORM's postgres driver keeps its node-postgres pool in `master`.
  const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  console.log(JSON.stringify({ checked_out: pool.totalCount - pool.idleCount, results, errors }));
  process.exit(0);
}

void main();
