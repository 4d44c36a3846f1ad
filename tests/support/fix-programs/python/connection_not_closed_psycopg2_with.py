"""connection-not-closed: `with psycopg2.connect()` commits or rolls back, it does not close."""
import contextlib

import psycopg2

from fix_report import PG_DSN, error_names, report, server_connections


def add_item(name, table):
    with psycopg2.connect(PG_DSN) as conn:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO items (name) VALUES (%s)", (name,))
            cur.execute(f"SELECT count(*) FROM {table}")
            value = cur.fetchone()[0]
    return value


def committed_items():
    with contextlib.closing(psycopg2.connect(PG_DSN, application_name="probe")) as probe:
        cur = probe.cursor()
        cur.execute("SELECT name FROM items ORDER BY id")
        return [row[0] for row in cur.fetchall()]


def remove_new_items():
    """The database is shared by the original and the fixed run: start from the same rows."""
    with contextlib.closing(psycopg2.connect(PG_DSN, application_name="probe")) as probe:
        probe.cursor().execute("DELETE FROM items WHERE name LIKE 'new %'")
        probe.commit()


def main():
    remove_new_items()
    results, errors = [], []
    for i, table in enumerate(["items", "missing_table", "items", "missing_table", "missing_table"]):
        try:
            results.append(add_item(f"new {i}", table))
        except Exception as error:
            errors.append(error)
    # The transaction the `with` ends: kept on success, rolled back when the block raised.
    results.append(committed_items())
    report(server_connections=server_connections(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
