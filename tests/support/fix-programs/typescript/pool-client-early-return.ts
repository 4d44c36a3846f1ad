// pool-client-not-released: an arrow-function handler that returns early without releasing.
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.FIX_PG_URL, max: 10 });

type Item = { id: number; name: string };

export const findItem = async (id: number): Promise<Item | null> => {
  const client = await pool.connect();
  const { rows } = await client.query<Item>("SELECT id, name FROM items WHERE id = $1", [id]);
  if (rows.length === 0) {
    return null;
  }
  client.release();
  return rows[0];
};

async function main(): Promise<void> {
  const results: (Item | null)[] = [];
  const errors: string[] = [];
  for (const id of [1, 42, 2, 43, 44]) {
    try {
      results.push(await findItem(id));
    } catch (error) {
      errors.push((error as Error).constructor.name);
    }
  }
  console.log(JSON.stringify({ checked_out: pool.totalCount - pool.idleCount, results, errors }));
  process.exit(0);
}

void main();
