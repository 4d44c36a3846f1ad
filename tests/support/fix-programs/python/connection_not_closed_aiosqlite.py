"""connection-not-closed: an aiosqlite connection closed only on the normal path."""
import asyncio

import aiosqlite

from fix_report import SQLITE_PATH, error_names, extra_threads, open_files, report


async def count_rows(table):
    db = await aiosqlite.connect(SQLITE_PATH)
    cursor = await db.execute(f"SELECT count(*) FROM {table}")
    value = (await cursor.fetchone())[0]
    await db.close()
    return value


async def main():
    results, errors = [], []
    for table in ["items", "missing_table", "items", "missing_table", "missing_table"]:
        try:
            results.append(await count_rows(table))
        except Exception as error:
            errors.append(error)
    report(open_files=open_files(SQLITE_PATH), driver_threads=extra_threads(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    asyncio.run(main())
