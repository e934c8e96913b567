"""Engines: the SQLite and PostgreSQL settings every connection gets, and how to read their errors."""

from __future__ import annotations

import math
import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

WRITE_OPTION = "enabley_write"
"""Execution option of a unit of work that writes: SQLite begins it IMMEDIATE, ``locked`` locks rows."""
READ_ONLY_OPTION = "enabley_read_only"
"""Execution option of a unit of work that only reads: SQLite refuses its writes (``query_only``)."""


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    timeout: float = 5.0,
    statement_timeout: float | None = None,
    read_only_by_default: bool = False,
) -> Engine:
    """The engine of ``url``: waits for a connection or a lock at most ``timeout`` seconds, and
    runs each statement at most ``statement_timeout`` seconds (None: no limit, for the operator's
    commands and migrations, which may rightly run long).

    ``read_only_by_default``: on PostgreSQL, a transaction may write only when it begins READ
    WRITE (``Database``'s write units do), autocommit statements never (``Database.read``). It
    costs nothing per request: the setting travels with the connection's startup packet."""
    parsed: URL = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": timeout, "factory": DeadlineConnection},
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=timeout,
        )
        _configure_sqlite(engine, busy_ms=int(timeout * 1000), statement_timeout=statement_timeout)
        return engine
    # No request waits for a lock longer than it would wait for the database itself.
    options = f"-c lock_timeout={int(timeout * 1000)}"
    if statement_timeout is not None:
        options += f" -c statement_timeout={int(statement_timeout * 1000)}"
    if read_only_by_default:
        options += " -c default_transaction_read_only=on"
    return create_engine(
        parsed,
        # Parameters can hold secrets and personal data: keep them out of error messages and logs.
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeout,
        pool_recycle=3600,
        connect_args={"connect_timeout": max(1, int(timeout)), "options": options},
    )


def _configure_sqlite(engine: Engine, *, busy_ms: int, statement_timeout: float | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite, so BEGIN/SAVEPOINT mean what they say.
        dbapi_conn.isolation_level = None
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            f"busy_timeout={busy_ms}",
        ):
            dbapi_conn.execute(f"PRAGMA {pragma}")
        if statement_timeout is not None:
            dbapi_conn.limit_statements(statement_timeout)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY instead of waiting its turn.
        options = conn.get_execution_options()
        statement = "BEGIN IMMEDIATE" if options.get(WRITE_OPTION, False) else "BEGIN"
        driver = conn.connection.driver_connection
        read_only = bool(options.get(READ_ONLY_OPTION, False))
        info = conn.connection.info  # lives as long as the DBAPI connection
        try:
            if info.get(_QUERY_ONLY, False) != read_only:
                driver.execute(f"PRAGMA query_only={int(read_only)}")
                info[_QUERY_ONLY] = read_only
            driver.execute(statement)
        except sqlite3.Error as exc:
            # Raised from an event hook, the driver's error would escape SQLAlchemy's wrapping:
            # "database is locked" after busy_timeout must read as the OperationalError it is.
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


_QUERY_ONLY = "enabley_query_only"
"""Whether SQLite's ``query_only`` is on for a connection: switched only when a unit needs the other."""

_PROGRESS_STEPS = 20_000
"""SQLite virtual-machine steps between two looks at the clock: well under a millisecond of work."""


class DeadlineConnection(sqlite3.Connection):
    """A SQLite connection whose every statement gets a deadline as it starts.

    SQLite has no statement timeout of its own: each statement sent through the connection or
    one of its cursors (ORM, Core, ``FastQuery``, the uploads' bulk statements) arms
    ``statement_seconds`` from now, and the progress handler interrupts a statement once its
    deadline has passed (SQLite then raises "interrupted"; the connection stays usable).

    Not the trace callback, which would arm it for free: Python's ``sqlite3`` writes out the
    statement with its parameters for each event, including one per row and trigger of a bulk
    insert, which made a 500-row insert of users cost seconds.
    """

    statement_seconds = math.inf
    deadline = math.inf

    def limit_statements(self, seconds: float) -> None:
        self.statement_seconds = seconds
        monotonic = time.monotonic

        def progress() -> int:
            return 1 if monotonic() > self.deadline else 0

        self.set_progress_handler(progress, _PROGRESS_STEPS)

    def arm(self) -> None:
        self.deadline = time.monotonic() + self.statement_seconds

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or DeadlineCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self.arm()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        self.arm()
        return super().executemany(sql, parameters)


class DeadlineCursor(sqlite3.Cursor):
    """A cursor of a ``DeadlineConnection``: each statement it sends arms the deadline."""

    connection: DeadlineConnection

    def execute(self, sql: str, parameters: Any = (), /) -> DeadlineCursor:
        self.connection.arm()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> DeadlineCursor:
        self.connection.arm()
        return super().executemany(sql, parameters)


def is_unavailable(exc: BaseException) -> bool:
    """Errors that mean "the database can't serve now" (down, locked, timed out), not a bad statement."""
    if isinstance(exc, PoolTimeoutError | OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


_LOCK_NOT_AVAILABLE = "55P03"
"""PostgreSQL's SQLSTATE for ``lock_timeout``."""
_QUERY_CANCELED = "57014"
"""PostgreSQL's SQLSTATE for a statement stopped by ``statement_timeout``."""


def is_statement_timeout(exc: BaseException) -> bool:
    """A statement ran past its deadline (PostgreSQL's statement_timeout, SQLite's progress handler)."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.OperationalError):
        return "interrupted" in str(orig)
    return getattr(orig, "sqlstate", None) == _QUERY_CANCELED


def is_lock_timeout(exc: BaseException) -> bool:
    """A wait for a lock held by another transaction ran out (SQLite's busy_timeout, PostgreSQL's
    lock_timeout)."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.OperationalError):
        return "locked" in str(orig) or "busy" in str(orig)
    return getattr(orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE


class WriteInReadUnit(RuntimeError):
    """A unit of work opened to read (no ``write=True``) tried to write: a defect of the caller."""


def is_read_only_violation(exc: BaseException) -> bool:
    """A write refused because its transaction is read-only."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.Error):
        return getattr(orig, "sqlite_errorname", "") == "SQLITE_READONLY"
    return getattr(orig, "sqlstate", None) == _READ_ONLY_SQL_TRANSACTION


_READ_ONLY_SQL_TRANSACTION = "25006"


def is_unique_violation(exc: BaseException) -> bool:
    """An INSERT or UPDATE met a row that already holds one of its unique keys."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.IntegrityError):
        return getattr(orig, "sqlite_errorname", "") in _SQLITE_UNIQUE
    return getattr(orig, "sqlstate", None) == _UNIQUE_VIOLATION


_UNIQUE_VIOLATION = "23505"
_SQLITE_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
