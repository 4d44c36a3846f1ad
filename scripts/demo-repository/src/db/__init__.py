"""Database access: the only module that may touch the raw session factory."""
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("postgresql+asyncpg://app@localhost/app", pool_size=10)
async_session = async_sessionmaker(engine, expire_on_commit=False)
db_session_factory = async_session


@asynccontextmanager
async def get_session():
    async with async_session() as session:
        yield session


async def get_session_generator():
    session: AsyncSession = async_session()
    try:
        yield session
        await session.commit()
    except GeneratorExit:
        # The client went away: drop pending state.
        session.expunge_all()
    except Exception:
        await session.rollback()
        raise
