import type { LibraryModel } from "../../flow/models.ts";

// SQLModel: its `Session` and `AsyncSession` are subclasses of SQLAlchemy's (same close,
// same context manager), and `create_engine` is SQLAlchemy's own, re-exported. The objects
// are SQLAlchemy's types, so everything the SQLAlchemy model knows applies to them.
export const sqlmodel: LibraryModel = {
  id: "sqlmodel",
  language: "python",
  versions: ">=0.0.8 <0.1",
  packages: ["sqlmodel"],
  exports: {
    "sqlmodel.Session": { call: { returns: "sqlalchemy.orm.Session" }, type: "sqlalchemy.orm.Session" },
    "sqlmodel.orm.session.Session": { call: { returns: "sqlalchemy.orm.Session" }, type: "sqlalchemy.orm.Session" },
    "sqlmodel.ext.asyncio.session.AsyncSession": { call: { returns: "sqlalchemy.ext.asyncio.AsyncSession" }, type: "sqlalchemy.ext.asyncio.AsyncSession" },
    "sqlmodel.create_engine": { call: { returns: "sqlalchemy.engine.Engine" } },
  },
  types: [],
};
