"""session-dependency-not-closed: an async dependency with no try at all."""
import asyncio
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool

from fix_report import DB_URL, error_names, report

engine = create_async_engine(DB_URL, poolclass=AsyncAdaptedQueuePool, pool_size=10, max_overflow=10)
async_session = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def get_session():
    session = async_session()
    yield session
    await session.commit()


async def handle(mode):
    """What FastAPI does with a generator dependency: finish it after the response,
    throw the endpoint's exception into it, or close it when the request is abandoned."""
    if mode == "abandon":
        dependency = get_session()
        session = await dependency.__anext__()
        await session.scalar(text("SELECT count(*) FROM items"))
        await dependency.aclose()
        return "abandoned"
    async with asynccontextmanager(get_session)() as session:
        value = await session.scalar(text("SELECT count(*) FROM items"))
        if mode == "error":
            raise ValueError("the endpoint failed")
        return value


async def main():
    results, errors = [], []
    for mode in ["ok", "abandon", "error", "ok"]:
        try:
            results.append(await handle(mode))
        except Exception as error:
            errors.append(error)
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    asyncio.run(main())
