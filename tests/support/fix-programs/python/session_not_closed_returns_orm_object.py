"""session-not-closed: the session is never closed, but the ORM object it loaded is returned and its lazy relationship read by the caller."""
from sqlalchemy import Column, ForeignKey, Integer, String, create_engine
from sqlalchemy.orm import declarative_base, relationship, sessionmaker
from sqlalchemy.pool import QueuePool

from fix_report import DB_URL, error_names, report

Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    tags = relationship("Tag")


class Tag(Base):
    __tablename__ = "tags"
    id = Column(Integer, primary_key=True)
    item_id = Column(Integer, ForeignKey("items.id"))


engine = create_engine(DB_URL, poolclass=QueuePool)
SessionLocal = sessionmaker(bind=engine)


def load_item(item_id):
    session = SessionLocal()
    item = session.get(Item, item_id)
    return item


def main():
    Base.metadata.create_all(engine)
    results, errors = [], []
    for i in [1, 2]:
        try:
            item = load_item(i)
            results.append([item.name, len(item.tags)])
        except Exception as error:
            errors.append(error)
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
