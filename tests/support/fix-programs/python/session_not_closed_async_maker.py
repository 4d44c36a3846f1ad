"""session-not-closed: a session from `sessionmaker(class_=AsyncSession)` (SQLAlchemy 1.4's async factory) never closed."""
import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool

from fix_report import DB_URL, error_names, report

engine = create_async_engine(DB_URL, poolclass=AsyncAdaptedQueuePool, pool_size=10, max_overflow=10)
SessionLocal = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def count_rows(table):
    session = SessionLocal()
    result = await session.execute(text(f"SELECT count(*) FROM {table}"))
    return result.scalar_one()


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
