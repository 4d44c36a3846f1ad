// query-runner-not-released: TypeORM's transaction pattern without `finally`: a failed
// statement rolls back and rethrows, and the query runner is never released.
import "reflect-metadata";
import type pg from "pg";
import { DataSource } from "typeorm";

const dataSource = new DataSource({ type: "postgres", url: process.env.FIX_PG_URL, poolSize: 10 });

async function renameItem(id: number, name: string | null): Promise<number> {
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  await queryRunner.startTransaction();
  try {
    await queryRunner.query("UPDATE items SET name = $1 WHERE id = $2", [name, id]);
    await queryRunner.commitTransaction();
  } catch (error) {
    await queryRunner.rollbackTransaction();
    throw error;
  }
  await queryRunner.release();
  return id;
}

async function main(): Promise<void> {
  await dataSource.initialize();
  const results: number[] = [];
  const errors: string[] = [];
  // A NULL name violates the column's NOT NULL constraint.
  for (const [id, name] of [[1, "item 1"], [2, null], [3, "item 3"], [1, null], [2, null]] as const) {
    try {
      results.push(await renameItem(id, name));
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
