// pool-client-not-released: a node-postgres client released only on the normal path.
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.FIX_PG_URL, max: 10 });

async function countRows(table: string): Promise<number> {
  const client = await pool.connect();
  const result = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
  client.release();
  return result.rows[0].n;
}

async function main(): Promise<void> {
  const results: number[] = [];
  const errors: string[] = [];
  for (const table of ["items", "missing_table", "items", "missing_table", "missing_table"]) {
    try {
      results.push(await countRows(table));
    } catch (error) {
      errors.push((error as Error).constructor.name);
    }
  }
  const checkedOut = pool.totalCount - pool.idleCount;
  console.log(JSON.stringify({ checked_out: checkedOut, results, errors }));
  // Leaked clients keep their sockets open and the process alive.
  process.exit(0);
}

void main();
