// The fix cases, all run by tests/integration/fixes in the PostgreSQL integration pass:
// `pythonCases` and `typescriptCases` execute a safe fix and compare the programs;
// `notSafeCases` are programs a closing fix would break, where no safe fix may be offered.
// `pendingCases` (programs in pending/) are known cases the analyzer does not handle yet:
// `npx tsx tests/support/fix-programs/check-pending.ts` re-checks them.
import type { FixCase } from "./execute-fix.ts";

const py = (program: string, rule: string, fn: string, database: FixCase["database"], leaks = ["checked_out"]): FixCase => ({
  program: `python/${program}`,
  rule,
  function: fn,
  database,
  leaks,
});

export const pythonCases: FixCase[] = [
  py("session_not_closed_sync.py", "session-not-closed", "count_rows", "sqlite"),
  py("session_not_closed_sync.py", "session-not-closed", "count_rows", "postgresql+psycopg2"),
  py("session_not_closed_async.py", "session-not-closed", "count_rows", "sqlite+aiosqlite"),
  py("session_not_closed_async.py", "session-not-closed", "count_rows", "postgresql+asyncpg"),
  py("session_not_closed_async_maker.py", "session-not-closed", "count_rows", "sqlite+aiosqlite"),
  py("session_not_closed_async_maker.py", "session-not-closed", "count_rows", "postgresql+asyncpg"),
  py("session_not_closed_early_close.py", "session-not-closed", "send_digest", "sqlite"),
  py("session_not_closed_generator.py", "session-not-closed", "stream_names", "sqlite"),
  py("session_not_closed_generator.py", "session-not-closed", "stream_names", "postgresql+psycopg2"),
  py("connection_not_closed_engine.py", "connection-not-closed", "count_rows", "sqlite"),
  py("connection_not_closed_engine.py", "connection-not-closed", "count_rows", "postgresql+psycopg2"),
  py("connection_not_closed_async_engine.py", "connection-not-closed", "count_rows", "sqlite+aiosqlite"),
  py("connection_not_closed_async_engine.py", "connection-not-closed", "count_rows", "postgresql+asyncpg"),
  py("connection_not_closed_raw.py", "connection-not-closed", "count_rows", "sqlite"),
  py("connection_not_closed_raw.py", "connection-not-closed", "count_rows", "postgresql+psycopg2"),
  py("connection_not_closed_psycopg2.py", "connection-not-closed", "count_rows", "postgresql+psycopg2", ["server_connections"]),
  py("connection_not_closed_psycopg3.py", "connection-not-closed", "count_rows", "postgresql+psycopg2", ["server_connections"]),
  py("connection_not_closed_asyncpg.py", "connection-not-closed", "count_rows", "postgresql+asyncpg", ["server_connections"]),
  py("connection_not_closed_asyncpg_pool.py", "connection-not-closed", "count_rows", "postgresql+asyncpg"),
  py("connection_not_closed_sqlite3.py", "connection-not-closed", "count_rows", "sqlite", ["open_files"]),
  py("connection_not_closed_aiosqlite.py", "connection-not-closed", "count_rows", "sqlite+aiosqlite", ["open_files", "driver_threads"]),
  py("session_dependency_async.py", "session-dependency-not-closed", "get_session", "sqlite+aiosqlite"),
  py("session_dependency_async.py", "session-dependency-not-closed", "get_session", "postgresql+asyncpg"),
  py("session_dependency_existing_finally.py", "session-dependency-not-closed", "get_session", "sqlite+aiosqlite"),
  py("session_dependency_existing_finally.py", "session-dependency-not-closed", "get_session", "postgresql+asyncpg"),
  py("session_dependency_no_try_async.py", "session-dependency-not-closed", "get_session", "sqlite+aiosqlite"),
  py("session_dependency_sync.py", "session-dependency-not-closed", "get_db", "sqlite"),
  py("session_dependency_sync.py", "session-dependency-not-closed", "get_db", "postgresql+psycopg2"),
  py("session_used_after_close_async.py", "session-used-after-close", "status", "sqlite+aiosqlite"),
  py("session_used_after_close_async.py", "session-used-after-close", "status", "postgresql+asyncpg"),
  py("session_used_after_close_sync.py", "session-used-after-close", "summary", "sqlite"),
  py("session_used_after_close_sync.py", "session-used-after-close", "summary", "postgresql+psycopg2"),
];

export const typescriptCases: FixCase[] = [
  { program: "typescript/pool-client-not-released.ts", rule: "pool-client-not-released", function: "countRows", database: "postgresql", leaks: ["checked_out"] },
  { program: "typescript/pool-client-no-semicolons.mjs", rule: "pool-client-not-released", function: "listNames", database: "postgresql", leaks: ["checked_out"] },
  { program: "typescript/pool-client-early-return.ts", rule: "pool-client-not-released", function: "findItem", database: "postgresql", leaks: ["checked_out"] },
  { program: "typescript/query-runner-not-released.ts", rule: "query-runner-not-released", function: "countRows", database: "postgresql", leaks: ["checked_out"] },
  { program: "typescript/query-runner-transaction.ts", rule: "query-runner-not-released", function: "renameItem", database: "postgresql", leaks: ["checked_out"] },
  { program: "typescript/query-runner-given-or-created.ts", rule: "query-runner-not-released", function: "countRows", database: "postgresql", leaks: ["checked_out"] },
  { program: "typescript/transaction-not-rolled-back.ts", rule: "transaction-not-finished", function: "renameItem", database: "postgresql", leaks: ["open_transactions"] },
  {
    program: "typescript/transaction-and-runner-normal-path.ts",
    rule: "transaction-not-finished",
    function: "moveItem",
    database: "postgresql",
    leaks: ["open_transactions", "checked_out"],
    alsoRules: ["query-runner-not-released"],
  },
];

/** What a correct analyzer does with a case where closing the resource would break the program. */
export type NotSafeExpectation =
  /** Report the leak if it likes, but never with a fix labelled safe. */
  | "not-safe"
  /** Report nothing: the code is correct. */
  | "no-finding";

export type NotSafeCase = FixCase & { expect: NotSafeExpectation; why: string };

/**
 * Programs on which a fix that closes the resource would break the program (each was once
 * offered as safe and broke it when executed). The analyzer must not offer a safe fix here.
 */
export const notSafeCases: NotSafeCase[] = [
  {
    ...py("session_not_closed_returns_orm_object.py", "session-not-closed", "load_item", "sqlite"),
    expect: "not-safe",
    why: "the function returns an ORM object its session loaded; closing the session detaches it and the caller's lazy load raises DetachedInstanceError",
  },
  {
    ...py("connection_not_closed_returns_cursor.py", "connection-not-closed", "item_cursor", "postgresql+psycopg2", ["server_connections"]),
    expect: "not-safe",
    why: "the function returns a cursor of the connection; closing the connection closes the cursor (InterfaceError in the caller)",
  },
  {
    ...py("connection_not_closed_handed_to_object.py", "connection-not-closed", "open_repository", "postgresql+asyncpg", ["server_connections"]),
    expect: "not-safe",
    why: "the connection is handed to a Repository that is returned: the function no longer owns it (InterfaceError: connection is closed)",
  },
  {
    ...py("connection_not_closed_closure.py", "connection-not-closed", "make_counter", "postgresql+psycopg2", ["server_connections"]),
    expect: "not-safe",
    why: "the connection is captured by a closure the function returns; closing it in `finally` breaks the closure (InterfaceError)",
  },
  {
    ...py("session_used_after_close_transaction.py", "session-used-after-close", "add_item", "sqlite"),
    expect: "not-safe",
    why: "the block is `with Session(engine) as session, session.begin():`; moving a later statement into it puts it in the transaction, so when it fails the insert the original committed is rolled back",
  },
  {
    ...py("session_maker_from_helper.py", "session-not-closed", "count_items", "sqlite"),
    expect: "no-finding",
    why: "`maker` is a sessionmaker returned by a helper, not a session; `with maker:` raises TypeError",
  },
];

/** What a correct analyzer does with a pending case. */
export type PendingExpectation = "fixed" | NotSafeExpectation;

export type PendingCase = FixCase & { expect: PendingExpectation; why: string };

/**
 * Programs in tests/support/fix-programs/pending on which the analyzer does not yet behave
 * (a safe fix that breaks the program, or a leak not reported). Empty when every known case
 * behaves; a new one goes here until it does, then moves to the lists above.
 */
export const pendingCases: PendingCase[] = [
  {
    ...py("session_not_closed_two_sessions.py", "session-not-closed", "copy_count", "sqlite"),
    program: "pending/session_not_closed_two_sessions.py",
    findings: 2,
    expect: "fixed",
    why: "two sessions in one function: each safe fix alone is right, but --fix applies both in one pass and the second `with` gets no indented body (IndentationError)",
  },
];
