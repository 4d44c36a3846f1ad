import type { LibraryModel } from "../../flow/models.ts";

// Flask-SQLAlchemy. `db = SQLAlchemy(app)`; `db.session` is the app's shared scoped
// session (Flask removes it at the end of each app context), but
// `db.create_scoped_session()` (2.x) builds a NEW registry each call that nothing else
// removes: the caller owns it and ends it with `remove()` (or `close()`, which closes the
// registry's current session). `db.create_session(options)` returns a `sessionmaker`.
export const flaskSqlalchemy: LibraryModel = {
  id: "flask_sqlalchemy",
  language: "python",
  versions: ">=2.1 <3.2",
  packages: ["flask_sqlalchemy"],
  exports: {
    "flask_sqlalchemy.SQLAlchemy": { call: { returns: "flask_sqlalchemy.SQLAlchemy" }, type: "flask_sqlalchemy.SQLAlchemy" },
  },
  types: [
    {
      name: "flask_sqlalchemy.SQLAlchemy",
      methods: {
        create_scoped_session: { returns: "flask_sqlalchemy.OwnedScopedSession" },
        create_session: { returns: "sqlalchemy.orm.sessionmaker" },
      },
    },
    {
      // No fix is offered: a scoped_session registry is not a context manager, and the
      // try/finally form has not been executed against Flask-SQLAlchemy on the test machines.
      name: "flask_sqlalchemy.OwnedScopedSession",
      resource: { rule: "session-not-closed", noun: "session", releaseMethods: ["remove", "close"], releaseAwait: "never", protocols: [], finallyRelease: "remove" },
      call: { returns: "sqlalchemy.orm.Session", fresh: false },
    },
  ],
};
