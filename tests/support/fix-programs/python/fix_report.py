"""What every fix program prints, and how it counts connections the pool cannot see.

The programs keep the exceptions they caught (as an error reporter does: the
traceback keeps the failed call's frame alive) and switch off the cyclic garbage
collector, so the counts show what the code itself releases, not what the collector
might reclaim at some later moment. Drivers under asyncio cannot be reclaimed by the
collector at all: no I/O can run in a finaliser.
"""
import gc
import json
import os
import sys
import threading
import time

gc.disable()

DB_URL = os.environ.get("FIX_DB_URL", "")
PG_DSN = os.environ.get("FIX_PG_DSN", "")
SQLITE_PATH = os.environ.get("FIX_SQLITE_PATH", "")
APP_NAME = os.environ.get("FIX_APP_NAME", "poolguard-fix")


def error_names(errors):
    return [type(error).__name__ for error in errors]


def server_connections():
    """Backends the PostgreSQL server holds for this program's application_name."""
    import psycopg2

    probe = psycopg2.connect(PG_DSN, application_name=APP_NAME + "-probe")
    try:
        cur = probe.cursor()
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (APP_NAME,))
        return cur.fetchone()[0]
    finally:
        probe.close()


def open_files(path):
    """File descriptors this process holds on `path` (a SQLite database file)."""
    target = os.path.realpath(path)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.path.realpath(os.readlink(f"/proc/self/fd/{fd}")) == target:
                count += 1
        except OSError:
            continue
    return count


def extra_threads(grace=1.0):
    """Threads other than the main one still running after `grace` seconds (a closed
    aiosqlite connection's thread stops within 0.1 s; an unclosed one runs forever)."""
    deadline = time.monotonic() + grace
    for thread in threading.enumerate():
        if thread is not threading.main_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
    return sum(1 for t in threading.enumerate() if t.is_alive() and t is not threading.main_thread())


def report(**values):
    # Leaked driver threads (aiosqlite) would keep the interpreter from exiting.
    sys.stdout.write(json.dumps(values) + "\n")
    sys.stdout.flush()
    os._exit(0)
