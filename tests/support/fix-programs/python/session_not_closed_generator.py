"""session-not-closed: a generator that streams rows from a session it never closes."""
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from fix_report import DB_URL, error_names, report

engine = create_engine(DB_URL, poolclass=QueuePool, pool_size=10, max_overflow=10)
SessionLocal = sessionmaker(bind=engine)


def stream_names():
    session = SessionLocal()
    for name in session.execute(text("SELECT name FROM items ORDER BY id")).scalars():
        yield name


def main():
    results, errors = [], []
    for mode in ["all", "first", "all", "first"]:
        names = stream_names()
        try:
            if mode == "all":
                results.append(list(names))
            else:
                # The consumer stops early and closes the generator, as `break` plus aclosing would.
                results.append(next(names))
                names.close()
        except Exception as error:
            errors.append(error)
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
