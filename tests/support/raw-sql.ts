import Database from "better-sqlite3";
import pg from "pg";

/**
 * One SQL statement straight on the test database, around the application's own code: for
 * tests that must see or change what is stored (an expired session, an encrypted column)
 * exactly as it sits in the database. `?` placeholders work on both providers.
 */
export async function rawSql(url: string, query: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  if (url.startsWith("file:")) {
    const db = new Database(url.slice("file:".length));
    try {
      const statement = db.prepare(query);
      if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
      statement.run(...params);
      return [];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let n = 0;
    return (await client.query(query.replace(/\?/g, () => `$${++n}`), params)).rows;
  } finally {
    await client.end();
  }
}
