"""connection-not-closed: a connection acquired from an asyncpg pool, released only on the normal path."""
import asyncio

import asyncpg

from fix_report import PG_DSN, error_names, report


async def count_rows(pool, table):
    conn = await pool.acquire()
    value = await conn.fetchval(f"SELECT count(*) FROM {table}")
    await pool.release(conn)
    return value


async def main():
    pool = await asyncpg.create_pool(PG_DSN, min_size=1, max_size=10)
    results, errors = [], []
    for table in ["items", "missing_table", "items", "missing_table", "missing_table"]:
        try:
            results.append(await count_rows(pool, table))
        except Exception as error:
            errors.append(error)
    report(checked_out=pool.get_size() - pool.get_idle_size(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    asyncio.run(main())
