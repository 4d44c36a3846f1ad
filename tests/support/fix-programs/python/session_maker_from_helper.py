"""A sessionmaker returned by a helper, bound to `maker`: not a session, and not a context manager."""
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from fix_report import DB_URL, error_names, report

engine = create_engine(DB_URL, poolclass=QueuePool)


def _get_session_maker(url):
    return sessionmaker(bind=engine)


def count_items():
    maker = _get_session_maker(DB_URL)
    session = maker()
    try:
        return session.execute(text("SELECT count(*) FROM items")).scalar_one()
    finally:
        session.close()


def main():
    results, errors = [], []
    try:
        results.append(count_items())
    except Exception as error:
        errors.append(error)
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
