"""connection-not-closed: an asyncpg connection closed only on the normal path."""
import asyncio

import asyncpg

from fix_report import PG_DSN, error_names, report, server_connections


async def count_rows(table):
    conn = await asyncpg.connect(PG_DSN)
    value = await conn.fetchval(f"SELECT count(*) FROM {table}")
    await conn.close()
    return value


async def main():
    results, errors = [], []
    for table in ["items", "missing_table", "items", "missing_table", "missing_table"]:
        try:
            results.append(await count_rows(table))
        except Exception as error:
            errors.append(error)
    report(server_connections=server_connections(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    asyncio.run(main())
