"""session-not-closed twice in one function: two sessions, both closed only on the normal path."""
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from fix_report import DB_URL, error_names, report

engine = create_engine(DB_URL, poolclass=QueuePool, pool_size=10, max_overflow=10)
SessionLocal = sessionmaker(bind=engine)


def copy_count(table):
    source = SessionLocal()
    count = source.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    target = SessionLocal()
    target.execute(text("SELECT :n"), {"n": count})
    source.close()
    target.close()
    return count


def main():
    results, errors = [], []
    for table in ["items", "missing_table", "items"]:
        try:
            results.append(copy_count(table))
        except Exception as error:
            errors.append(error)
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
