"""session-used-after-close: a report that queries its session after the `with` ended."""
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from fix_report import DB_URL, error_names, report

engine = create_engine(DB_URL, poolclass=QueuePool, pool_size=10, max_overflow=10)


def summary():
    with Session(engine) as session:
        total = session.execute(text("SELECT count(*) FROM items")).scalar_one()
    names = session.execute(text("SELECT name FROM items ORDER BY id")).scalars().all()
    return {"total": total, "names": names}


def main():
    results, errors = [], []
    for _ in range(3):
        try:
            results.append(summary())
        except Exception as error:
            errors.append(error)
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
