"""Managers share one database session per command run."""
import asyncio

from src.db import get_session


class BaseManager:
    def __init__(self):
        self._db_session = None

    async def _get_db_session(self):
        if self._db_session is None:
            self._db_session = await get_session().__aenter__()
        return self._db_session

    async def search_all(self, repos):
        session = await self._get_db_session()
        return await asyncio.gather(*(self._search(session, repo) for repo in repos))

    async def _search(self, session, repo):
        return await session.execute(repo.query())

    async def close(self):
        self._db_session = None
