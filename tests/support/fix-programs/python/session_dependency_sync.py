"""session-dependency-not-closed: a sync generator dependency that never closes its session."""
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from fix_report import DB_URL, error_names, report

engine = create_engine(DB_URL, poolclass=QueuePool, pool_size=10, max_overflow=10)
SessionLocal = sessionmaker(bind=engine)


def get_db():
    db = SessionLocal()
    yield db


def endpoint(db, mode):
    value = db.execute(text("SELECT count(*) FROM items")).scalar_one()
    if mode == "error":
        raise ValueError("the endpoint failed")
    return value


def handle(mode):
    """What FastAPI does with a generator dependency: finish it after the response,
    throw the endpoint's exception into it, or close it when the request is abandoned."""
    if mode == "abandon":
        dependency = get_db()
        db = next(dependency)
        db.execute(text("SELECT count(*) FROM items"))
        dependency.close()
        return "abandoned"
    with contextmanager(get_db)() as db:
        return endpoint(db, mode)


def main():
    results, errors = [], []
    for mode in ["ok", "abandon", "error", "abandon", "ok", "abandon"]:
        try:
            results.append(handle(mode))
        except Exception as error:
            errors.append(error)
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
