"""session-used-after-close: a status endpoint that queries its session after the `async with` ended."""
import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool

from fix_report import DB_URL, error_names, report

engine = create_async_engine(DB_URL, poolclass=AsyncAdaptedQueuePool, pool_size=10, max_overflow=10)
session_factory = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def status():
    async with session_factory() as session:
        total = await session.scalar(text("SELECT count(*) FROM items"))
    recent = await session.scalar(text("SELECT count(*) FROM items WHERE id > 1"))
    return {"total": total, "recent": recent}


async def main():
    results, errors = [], []
    for _ in range(3):
        try:
            results.append(await status())
        except Exception as error:
            errors.append(error)
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    asyncio.run(main())
