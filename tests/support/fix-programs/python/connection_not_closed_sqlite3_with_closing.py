"""connection-not-closed: `with sqlite3.connect()` in a file that already imports `closing`."""
import sqlite3
from contextlib import closing

from fix_report import SQLITE_PATH, error_names, open_files, report


def add_item(name, table):
    with sqlite3.connect(SQLITE_PATH) as conn:
        conn.execute("INSERT INTO items (name) VALUES (?)", (name,))
        value = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return value


def committed_items():
    probe = sqlite3.connect(SQLITE_PATH)
    try:
        return [row[0] for row in probe.execute("SELECT name FROM items ORDER BY id")]
    finally:
        probe.close()


def main():
    results, errors = [], []
    for i, table in enumerate(["items", "missing_table", "items", "missing_table", "missing_table"]):
        try:
            results.append(add_item(f"new {i}", table))
        except Exception as error:
            errors.append(error)
    # The transaction the `with` ends: kept on success, rolled back when the block raised.
    results.append(committed_items())
    report(open_files=open_files(SQLITE_PATH), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
