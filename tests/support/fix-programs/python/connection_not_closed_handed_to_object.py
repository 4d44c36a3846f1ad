"""connection-not-closed: the asyncpg connection is handed to a Repository that is returned and used by the caller."""
import asyncio

import asyncpg

from fix_report import PG_DSN, error_names, report, server_connections


class Repository:
    def __init__(self, conn):
        self.conn = conn

    async def names(self):
        return [r["name"] for r in await self.conn.fetch("SELECT name FROM items ORDER BY id")]


async def open_repository():
    conn = await asyncpg.connect(PG_DSN)
    repo = Repository(conn)
    await conn.execute("SELECT 1")
    return repo


async def main():
    results, errors = [], []
    for _ in range(2):
        try:
            repo = await open_repository()
            results.append(await repo.names())
        except Exception as error:
            errors.append(error)
    report(server_connections=server_connections(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    asyncio.run(main())
