"""connection-not-closed: the psycopg2 connection is never closed, but the cursor it made is returned and read by the caller."""
import psycopg2

from fix_report import PG_DSN, error_names, report, server_connections


def item_cursor():
    conn = psycopg2.connect(PG_DSN)
    cur = conn.cursor()
    cur.execute("SELECT name FROM items ORDER BY id")
    return cur


def main():
    results, errors = [], []
    for _ in range(2):
        try:
            results.append([row[0] for row in item_cursor().fetchall()])
        except Exception as error:
            errors.append(error)
    report(server_connections=server_connections(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
