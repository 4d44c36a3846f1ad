"""connection-not-closed: a psycopg 3 connection closed only on the normal path."""
import psycopg

from fix_report import PG_DSN, error_names, report, server_connections


def count_rows(table):
    conn = psycopg.connect(PG_DSN)
    value = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    conn.close()
    return value


def main():
    results, errors = [], []
    for table in ["items", "missing_table", "items", "missing_table", "missing_table"]:
        try:
            results.append(count_rows(table))
        except Exception as error:
            errors.append(error)
    report(server_connections=server_connections(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
