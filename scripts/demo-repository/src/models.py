from sqlalchemy import Column, DateTime, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Channel(Base):
    __tablename__ = "channels"
    id = Column(Integer, primary_key=True)
    username = Column(String, unique=True)


class Event(Base):
    __tablename__ = "events"
    id = Column(Integer, primary_key=True)
    summary = Column(String)
    created_at = Column(DateTime)
