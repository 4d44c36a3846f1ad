"""connection-not-closed: an AsyncEngine connection closed only on the normal path."""
import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from fix_report import DB_URL, error_names, report

engine = create_async_engine(DB_URL, poolclass=AsyncAdaptedQueuePool, pool_size=10, max_overflow=10)


async def count_rows(table):
    conn = await engine.connect()
    result = await conn.execute(text(f"SELECT count(*) FROM {table}"))
    value = result.scalar_one()
    await conn.close()
    return value


async def main():
    results, errors = [], []
    for table in ["items", "missing_table", "items", "missing_table", "missing_table"]:
        try:
            results.append(await count_rows(table))
        except Exception as error:
            errors.append(error)
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    asyncio.run(main())
