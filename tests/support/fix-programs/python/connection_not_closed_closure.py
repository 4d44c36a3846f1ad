"""connection-not-closed: the connection is captured by a closure that the function returns."""
import psycopg2

from fix_report import PG_DSN, error_names, report, server_connections


def make_counter():
    conn = psycopg2.connect(PG_DSN)

    def count():
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM items")
        return cur.fetchone()[0]

    return count


def main():
    results, errors = [], []
    for _ in range(2):
        try:
            results.append(make_counter()())
        except Exception as error:
            errors.append(error)
    report(server_connections=server_connections(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
