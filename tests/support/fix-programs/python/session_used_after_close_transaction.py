"""session-used-after-close: a lookup after a `with session.begin()` block that committed an insert."""
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from fix_report import DB_URL, error_names, report

engine = create_engine(DB_URL, poolclass=QueuePool)


def add_item(name):
    with Session(engine) as session, session.begin():
        session.execute(text("INSERT INTO items (name) VALUES (:name)"), {"name": name})
    item_id = session.execute(text("SELECT id FROM items WHERE name = :name"), {"name": name}).scalar_one()
    return item_id


def main():
    results, errors = [], []
    for name in ["new", "item 1", "other"]:
        try:
            results.append(add_item(name))
        except Exception as error:
            errors.append(error)
    with engine.connect() as conn:
        results.append(conn.execute(text("SELECT count(*) FROM items")).scalar_one())
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
