// transaction-not-finished: the query runner is released in `finally`, but nothing rolls
// the transaction back when a statement before the commit fails. `release()` then hands
// the connection back to the pool inside the aborted transaction, where it stays open
// (`idle in transaction (aborted)`) until the process ends. An empty name takes a branch
// that rolls back by itself and throws.
import "reflect-metadata";
import pg from "pg";
import { DataSource } from "typeorm";

const dataSource = new DataSource({ type: "postgres", url: process.env.FIX_PG_URL, poolSize: 10 });

async function renameItem(id: number, name: string | null): Promise<number> {
  const queryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.startTransaction();
    // The code's own rollback: the fix's rollback after it is refused by TypeORM and ignored.
    if (name === "") {
      await queryRunner.rollbackTransaction();
      throw new RangeError("empty name");
    }
    await queryRunner.query("UPDATE items SET name = name || ' (old)' WHERE id = $1", [id]);
    // A NULL name violates the column's NOT NULL constraint.
    await queryRunner.query("UPDATE items SET name = $1 WHERE id = $2", [name, id]);
    await queryRunner.commitTransaction();
  } finally {
    await queryRunner.release();
  }
  return id;
}

async function main(): Promise<void> {
  await dataSource.initialize();
  const results: unknown[] = [];
  const errors: string[] = [];
  // The failing calls come last: in the original, the next caller gets the pooled
  // connection that is still inside the aborted transaction.
  for (const [id, name] of [[1, "first"], [2, ""], [2, "second"], [3, null], [1, null], [2, null]] as const) {
    try {
      results.push(await renameItem(id, name));
    } catch (error) {
      errors.push((error as Error).constructor.name);
    }
  }
  // What is committed, and which connections of this program sit in a transaction, seen
  // from a connection of its own (outside the data source's pool).
  const observer = new pg.Client({ connectionString: process.env.FIX_PG_URL, application_name: "fix-observer" });
  let open: number;
  try {
    await observer.connect();
    const rows = await observer.query("SELECT id, name FROM items WHERE id <= 3 ORDER BY id");
    results.push(rows.rows);
    const inTransaction = await observer.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'",
      [process.env.FIX_APP_NAME],
    );
    open = inTransaction.rows[0].n;
  } finally {
    await observer.end();
  }
  // TypeORM's postgres driver keeps its node-postgres pool in `master`.
  const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  console.log(JSON.stringify({ open_transactions: open, checked_out: pool.totalCount - pool.idleCount, results, errors }));
  process.exit(0);
}

void main();
