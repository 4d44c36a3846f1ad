"""session-not-closed: the session is closed early, before slow work that does not need it."""
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from fix_report import DB_URL, error_names, report

engine = create_engine(DB_URL, poolclass=QueuePool)
SessionLocal = sessionmaker(bind=engine)
held_during_slow_work = []


def notify(names):
    # Stands for a slow call (HTTP, e-mail): it needs no database connection.
    held_during_slow_work.append(engine.pool.checkedout())
    return len(names)


def send_digest(table):
    session = SessionLocal()
    names = session.execute(text(f"SELECT name FROM {table} ORDER BY id")).scalars().all()
    session.close()
    return notify(names)


def main():
    results, errors = [], []
    # The failing call comes last, so what the slow work sees is only its own call's connection.
    for table in ["items", "items", "missing_table"]:
        try:
            results.append(send_digest(table))
        except Exception as error:
            errors.append(error)
    # What the slow work held is part of the result: a fix must not hold the connection longer.
    results.append({"held_during_slow_work": held_during_slow_work})
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
