"""connection-not-closed: a sqlite3 connection closed only on the normal path."""
import sqlite3

from fix_report import SQLITE_PATH, error_names, open_files, report


def count_rows(table):
    conn = sqlite3.connect(SQLITE_PATH)
    cur = conn.cursor()
    cur.execute(f"SELECT count(*) FROM {table}")
    value = cur.fetchone()[0]
    conn.close()
    return value


def main():
    results, errors = [], []
    for table in ["items", "missing_table", "items", "missing_table", "missing_table"]:
        try:
            results.append(count_rows(table))
        except Exception as error:
            errors.append(error)
    report(open_files=open_files(SQLITE_PATH), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
