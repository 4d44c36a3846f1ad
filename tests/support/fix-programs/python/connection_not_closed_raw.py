"""connection-not-closed: `engine.raw_connection()` (a pooled DB-API connection) closed only on the normal path."""
from sqlalchemy import create_engine
from sqlalchemy.pool import QueuePool

from fix_report import DB_URL, error_names, report

engine = create_engine(DB_URL, poolclass=QueuePool, pool_size=10, max_overflow=10)


def count_rows(table):
    conn = engine.raw_connection()
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
    report(checked_out=engine.pool.checkedout(), results=results, errors=error_names(errors))


if __name__ == "__main__":
    main()
