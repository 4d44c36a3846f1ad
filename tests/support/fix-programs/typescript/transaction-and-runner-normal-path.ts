// transaction-not-finished and query-runner-not-released together, as TypeORM's own tests
// often write it: start, work, commit and release, all only on the normal path. A failed
// statement leaves the runner checked out and its transaction open; --fix applies both
// fixes (try/finally for the runner, a rollback in catch for the transaction).
import "reflect-metadata"
import type pg from "pg"
import { DataSource } from "typeorm"

const dataSource = new DataSource({ type: "postgres", url: process.env.FIX_PG_URL, poolSize: 10 })

async function moveItem(id: number, name: string | null): Promise<string> {
    const queryRunner = dataSource.createQueryRunner()
    await queryRunner.startTransaction()
    await queryRunner.query("UPDATE items SET name = name || ' (moving)' WHERE id = $1", [id])
    // A NULL name violates the column's NOT NULL constraint.
    await queryRunner.query("UPDATE items SET name = $1 WHERE id = $2", [name, id])
    const rows = await queryRunner.query("SELECT name FROM items WHERE id = $1", [id])
    await queryRunner.commitTransaction()
    await queryRunner.release()
    return rows[0].name
}

async function main(): Promise<void> {
    await dataSource.initialize()
    const results: unknown[] = []
    const errors: string[] = []
    for (const [id, name] of [[1, "moved 1"], [2, null], [3, "moved 3"], [1, null], [2, null]] as const) {
        try {
            results.push(await moveItem(id, name))
        } catch (error) {
            errors.push((error as Error).constructor.name)
        }
    }
    // Committed rows, read through a runner the pool hands out now (its own transaction).
    results.push(await dataSource.query("SELECT id, name FROM items WHERE id <= 3 ORDER BY id"))
    const inTransaction = await dataSource.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'",
        [process.env.FIX_APP_NAME],
    )
    // TypeORM's postgres driver keeps its node-postgres pool in `master`.
    const pool = (dataSource.driver as unknown as { master: pg.Pool }).master
    console.log(JSON.stringify({ open_transactions: inTransaction[0].n, checked_out: pool.totalCount - pool.idleCount, results, errors }))
    process.exit(0)
}

void main()
