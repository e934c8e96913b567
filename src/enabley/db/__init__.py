"""Database plumbing: the declarative base, column types, tenancy helper and units of work.

Every request handler opens exactly one unit of work (``Database.session``) and finishes it
before it returns: the commit happens before the response leaves, and no ``await`` can fall
between a write and its commit (see docs/decisions/0001-execution-model.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import sqlite3
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, Concatenate, ParamSpec, Protocol, TypeAlias, TypeVar

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    MetaData,
    Select,
    create_engine,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import PoolProxiedConnection, QueuePool
from sqlalchemy.sql.selectable import Join
from sqlalchemy.types import TypeDecorator

from enabley.errors import ServiceUnavailable

WRITE_OPTION = "enabley_write"


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on SQLite (which stores them naive) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


JsonType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    # Named constraints: SQLite batch migrations can only drop what has a name.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JsonType, list[str]: JsonType}


def utcnow() -> datetime:
    return datetime.now(UTC)


class TenantOwned:
    """Mixin for every table that belongs to one account."""

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))


class HasAccount(Protocol):
    @property
    def account_id(self) -> int: ...


M = TypeVar("M", bound=TenantOwned)

AnySelect: TypeAlias = Select[*tuple[Any, ...]]
"""A SELECT of any columns (SQLAlchemy 2.1 types a Select by its column types)."""
AnySelectT = TypeVar("AnySelectT", bound=AnySelect)


def owned(model: type[M], tenant: HasAccount) -> Select[M]:
    """The only place that writes ``account_id ==``: every tenant query starts here."""
    return select(model).where(model.account_id == tenant.account_id)


def locked(session: Session, stmt: AnySelectT, *, changing: bool = False) -> AnySelectT:
    """``stmt`` locking the rows it reads until commit, when ``session`` writes to PostgreSQL.

    A write that looks a row up and then refers to it must not interleave with a concurrent
    delete of that row (a foreign key error, or an UPDATE that matches nothing: a 500) or a
    change of its identifier (two renames of one user both succeeding). Under FOR KEY SHARE
    such a delete or re-key waits for this transaction; committed first, it hides the row, so
    the lookup answers as it would have after it. ``changing``: this write itself deletes the
    row, changes its unique columns, or replaces what hangs off it as a whole: FOR UPDATE, so
    that two such writes queue (rather than deadlock, or both add what each meant to replace).
    SQLite needs no row locks: a writer holds the whole database (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name != "postgresql":
        return stmt
    if not session.connection().get_execution_options().get(WRITE_OPTION, False):
        return stmt
    return stmt.with_for_update() if changing else stmt.with_for_update(read=True, key_share=True)


def make_engine(
    url: str, *, pool_size: int = 10, timeout: float = 5.0, statement_timeout: float | None = None
) -> Engine:
    """The engine of ``url``: waits for a connection or a lock at most ``timeout`` seconds, and
    runs each statement at most ``statement_timeout`` seconds (None: no limit, for the operator's
    commands and migrations, which may rightly run long)."""
    parsed: URL = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": timeout},
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
            _limit_statements(dbapi_conn, statement_timeout)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY instead of waiting its turn.
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        statement = "BEGIN IMMEDIATE" if write else "BEGIN"
        driver = conn.connection.driver_connection
        try:
            driver.execute(statement)
        except sqlite3.Error as exc:
            # Raised from an event hook, the driver's error would escape SQLAlchemy's wrapping:
            # "database is locked" after busy_timeout must read as the OperationalError it is.
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


_PROGRESS_STEPS = 20_000
"""SQLite virtual-machine steps between two looks at the clock: well under a millisecond of work."""


def _limit_statements(dbapi_conn: sqlite3.Connection, seconds: float) -> None:
    """SQLite has no statement timeout of its own. The trace callback runs as each statement
    starts, whichever way it was sent (ORM, Core, ``FastQuery``, the upload's bulk statements), and
    sets its deadline; the progress handler interrupts it once that has passed (SQLite then raises
    "interrupted", and the connection stays usable)."""
    deadline = [math.inf]
    monotonic = time.monotonic

    def started(_sql: str) -> None:
        deadline[0] = monotonic() + seconds

    def progress() -> int:
        return 1 if monotonic() > deadline[0] else 0

    dbapi_conn.set_trace_callback(started)
    dbapi_conn.set_progress_handler(progress, _PROGRESS_STEPS)


T = TypeVar("T")
P = ParamSpec("P")


class Database:
    """The engine, the units of work opened on it, and the threads they run on.

    ``bind`` is the engine, except in tests, where it is one connection inside a transaction
    that is rolled back after each test.

    A request's database work runs on the database's own threads (``run``), never on the event
    loop, except the bounded index probes that SQLite answers from its own file (``probes_inline``):
    see docs/decisions/0003-execution-model.md.
    """

    def __init__(self, engine: Engine, *, statement_timeout: float | None = None) -> None:
        self.engine = engine
        self.bind: Engine | Connection = engine
        self.statement_timeout = statement_timeout
        self._turns = threading.RLock()
        self._one_writer = threading.Lock() if engine.dialect.name == "sqlite" else None
        self._autocommit_reads = engine.dialect.name == "postgresql"
        self.probes_inline = engine.dialect.name == "sqlite"
        """SQLite reads its own file, a bounded index probe costs less than a thread hop; a
        PostgreSQL probe waits a network round trip, which is not bounded."""
        pool = engine.pool
        self._threads = ThreadPoolExecutor(
            max_workers=pool.size() if isinstance(pool, QueuePool) else 1,
            thread_name_prefix="enabley-db",
        )
        self._watch = StallWatch(engine, self.timeout or 5.0) if engine.dialect.name == "postgresql" else None

    async def reading(
        self, work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(session, ...)`` in a unit of work that only reads, on the database's threads: for
        the routes no tenant calls (a certificate link, the readiness probe)."""

        def unit() -> T:
            with self.session() as session:
                return work(session, *args, **kwargs)

        return await self.run(unit)

    async def probe(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``work(...)``: a bounded index probe, inline where that is cheaper than a thread hop
        (``probes_inline``), else on the database's threads."""
        if self.probes_inline:
            return work(*args, **kwargs)
        return await self.run(partial(work, *args, **kwargs))

    @classmethod
    def for_server(cls, url: str, *, pool_size: int, timeout: float, statement_timeout: float) -> Database:
        """The server's database: every statement limited to ``statement_timeout`` seconds."""
        engine = make_engine(url, pool_size=pool_size, timeout=timeout, statement_timeout=statement_timeout)
        return cls(engine, statement_timeout=statement_timeout)

    async def run(self, unit: Callable[[], T]) -> T:
        """``unit()``, a block of database work, run on one of the database's threads while the
        event loop serves other requests.

        There are as many threads as the pool keeps connections. A unit still waiting for a thread
        after ``ENABLEY_DB_TIMEOUT_SECONDS`` is dropped with a 503; one that has started runs to its
        end, which its own limits bound (lock and statement timeouts, the stall watch).
        """
        self._refuse_if_frozen()
        started = threading.Event()

        def call() -> T:
            started.set()
            return unit()

        future = self._threads.submit(call)
        waiting = asyncio.wrap_future(future)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), self.timeout)
        except TimeoutError:
            if not started.is_set() and future.cancel():
                raise self.busy() from None
            return await waiting

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def new_session(self) -> Session:
        if isinstance(self.bind, Connection):
            return Session(bind=self.bind, join_transaction_mode="create_savepoint", expire_on_commit=False)
        return Session(bind=self.bind, expire_on_commit=False)

    @contextmanager
    def session(
        self, *, write: bool = False, check: Callable[[Connection], None] | None = None
    ) -> Iterator[Session]:
        """One ORM transaction: committed when the block ends, rolled back if it raises.

        ``check`` runs first, inside the transaction (the tenant uses it to confirm its client).
        """
        with self._sharing(), self._writer(write), self._opened(write=write, check=check) as session:
            try:
                yield session
                session.commit()
            except BaseException as exc:
                _rollback_quietly(session)
                if is_unavailable(exc):
                    raise self.unavailable(exc) from exc
                raise

    @contextmanager
    def _writer(self, write: bool) -> Iterator[None]:
        """SQLite has one writer at a time. This process's writers queue for it on a lock, in
        order, instead of in SQLite's busy handler, which sleeps up to 100 ms between tries: with
        a few threads writing, some would wait seconds while the lock sat free."""
        if not (write and self._one_writer is not None):
            yield
            return
        if not self._one_writer.acquire(timeout=self.timeout or -1):
            raise ServiceUnavailable(
                f"Other writes held the database for longer than the database timeout "
                f"({self._named_timeout()}); retry later",
                headers=_RETRY,
            )
        try:
            yield
        finally:
            self._one_writer.release()

    def _sharing(self) -> contextlib.AbstractContextManager[Any]:
        """Units of work bound to one shared connection (tests) take turns on it."""
        return self._turns if isinstance(self.bind, Connection) else contextlib.nullcontext()

    @contextmanager
    def _opened(self, *, write: bool, check: Callable[[Connection], None] | None) -> Iterator[Session]:
        """A session with its transaction begun and ``check`` passed.

        When ``check``, the transaction's first statement, finds its pooled connection dead (the
        database restarted since), nothing has been done yet: it starts over once on a fresh one.
        """
        options = {WRITE_OPTION: True} if write else None
        retries = 1 if check is not None and isinstance(self.bind, Engine) else 0
        while True:
            session = self.new_session()
            try:
                connection = session.connection(execution_options=options)
                if check is not None:
                    check(connection)
                break
            except BaseException as exc:
                _rollback_quietly(session)
                session.close()
                if retries and isinstance(exc, DBAPIError) and exc.connection_invalidated:
                    self._refuse_if_frozen()
                    retries -= 1
                    continue
                if is_unavailable(exc):
                    raise self.unavailable(exc) from exc
                raise
        with session:
            yield session

    @contextmanager
    def read(self, *, check: Callable[[Reader], None] | None = None) -> Iterator[Reader]:
        """A pooled DBAPI connection for a few ``FastQuery`` reads: the cheapest unit there is."""
        dialect = self.engine.dialect
        try:
            if isinstance(self.bind, Connection):
                with self._turns:
                    reader = Reader(dialect, self.bind.connection)
                    if check is not None:
                        check(reader)
                    yield reader
                return
            reader = Reader(dialect, self._checkout_for_reads(), reconnect=self._checkout_for_reads)
            try:
                if check is not None:
                    check(reader)
                yield reader
            finally:
                reader.release()
        except (DBAPIError, PoolTimeoutError) as exc:
            if is_unavailable(exc):
                raise self.unavailable(exc) from exc
            raise
        except dialect.loaded_dbapi.OperationalError as exc:
            # Raised by the pool itself when it can't connect: not wrapped by SQLAlchemy.
            raise self.unavailable(exc) from exc

    def _checkout_for_reads(self) -> PoolProxiedConnection:
        assert isinstance(self.bind, Engine)
        self._refuse_if_frozen()
        pooled = self.bind.raw_connection()
        # Reads run outside a transaction, as they do on SQLite: on PostgreSQL that saves the
        # BEGIN and the pool's ROLLBACK, two of a lookup's three round trips. Under READ
        # COMMITTED each statement had its own snapshot anyway.
        if self._autocommit_reads:
            try:
                pooled.driver_connection.autocommit = True  # type: ignore[union-attr]
            except BaseException:
                pooled.invalidate()
                raise
        return pooled

    def unavailable(self, exc: BaseException) -> ServiceUnavailable:
        """The 503 for ``exc``, an error for which ``is_unavailable`` holds: a client retries it."""
        if is_lock_timeout(exc):
            return ServiceUnavailable(
                f"Another write held the lock this write needs for longer than the database timeout "
                f"({self._named_timeout()}); retry later",
                headers=_RETRY,
            )
        if isinstance(exc, PoolTimeoutError):
            return self.busy()
        if is_statement_timeout(exc):
            limit = (
                f"ENABLEY_STATEMENT_TIMEOUT_SECONDS={self.statement_timeout:g} s"
                if self.statement_timeout
                else "ENABLEY_STATEMENT_TIMEOUT_SECONDS"
            )
            return ServiceUnavailable(
                f"A database statement ran longer than the statement timeout ({limit}) and was "
                "stopped; retry later, or narrow the request",
                headers=_RETRY,
            )
        return ServiceUnavailable("The database is unavailable; retry later", headers=_RETRY)

    def busy(self) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"Every database connection stayed busy for longer than the database timeout "
            f"({self._named_timeout()}); retry later",
            headers=_RETRY,
        )

    def _refuse_if_frozen(self) -> None:
        """No new connection to a server the stall watch found frozen: it would wait the connect
        timeout for nothing."""
        if self._watch is not None and self._watch.frozen:
            raise ServiceUnavailable("The database is not answering; retry later", headers=_RETRY)

    def _named_timeout(self) -> str:
        name = "ENABLEY_DB_TIMEOUT_SECONDS"
        return f"{name}={self.timeout:g} s" if self.timeout else name

    @property
    def timeout(self) -> float | None:
        """How long a unit of work waits for a connection or a lock (ENABLEY_DB_TIMEOUT_SECONDS)."""
        pool = self.engine.pool
        return pool.timeout() if isinstance(pool, QueuePool) else None

    def dispose(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self._threads.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()


_RETRY = {"Retry-After": "1"}
log = logging.getLogger("enabley.db")


class StallWatch:
    """Notices a PostgreSQL server that stopped answering without closing its connections.

    A frozen server (SIGSTOP, a network partition) keeps its sockets open: the kernel acknowledges
    what is sent, so neither ``statement_timeout`` (the server's) nor TCP's own timers ever fire,
    and a statement waits forever. While a connection has been checked out of the pool for longer
    than ``grace``, this thread asks the server for a fresh connection, at most once a second. When
    that gets no answer at all in time (an error answer means the server is alive), the server is
    ``frozen``: the sockets of every connection checked out are shut down, so the statements
    waiting on them fail as a lost connection (503) and their threads are free again, and until
    the server answers a probe again, units of work are refused at once (``Database.run``) rather
    than left to wait for a connection that can't come.
    """

    def __init__(self, engine: Engine, timeout: float) -> None:
        self._engine = engine
        self.grace = min(1.0, timeout / 4)
        self.probe_timeout = max(2, math.ceil(timeout / 2))
        """libpq waits whole seconds, at least 2, for a connection."""
        self.frozen = False
        self._out: dict[int, tuple[float, Any]] = {}
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_probe = 0.0
        event.listen(engine, "checkout", self._checked_out)
        event.listen(engine, "checkin", self._checked_in)

    def _checked_out(self, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        self._out[id(record)] = (time.monotonic(), dbapi_conn)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="enabley-db-watch", daemon=True)
            self._thread.start()

    def _checked_in(self, _dbapi_conn: Any, record: Any) -> None:
        self._out.pop(id(record), None)

    def close(self) -> None:
        self._closed.set()

    def _run(self) -> None:
        while not self._closed.wait(self.grace / 2):
            now = time.monotonic()
            if self.frozen:
                self._cut_all()
                if now >= self._next_probe:
                    self._next_probe = now + 1.0
                    if self._server_answers():
                        self.frozen = False
                        log.warning("database server answering again")
                continue
            stalled = any(now - since > self.grace for since, _ in list(self._out.values()))
            if not stalled or now < self._next_probe:
                continue
            self._next_probe = now + 1.0
            if not self._server_answers():
                self.frozen = True
                log.warning("database server not answering: cutting %d connections in use", len(self._out))
                self._cut_all()

    def _cut_all(self) -> None:
        for _, conn in list(self._out.values()):
            _shut_down(conn)

    def _server_answers(self) -> bool:
        dialect = self._engine.dialect
        cargs, cparams = dialect.create_connect_args(self._engine.url)
        started = time.monotonic()
        try:
            conn = dialect.loaded_dbapi.connect(*cargs, **{**cparams, "connect_timeout": self.probe_timeout})
        except Exception:
            # Refused, or "too many clients": an answer all the same. Only silence is a stall.
            return time.monotonic() - started < self.probe_timeout - 0.1
        with contextlib.suppress(Exception):
            conn.close()
        return True


def _shut_down(dbapi_conn: Any) -> None:
    """Wake whatever waits on this connection's socket, from another thread: the socket is shut
    down (not closed: the driver still owns the descriptor and closes it itself)."""
    try:
        fd = dbapi_conn.pgconn.socket
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except Exception as exc:
        log.warning("could not cut a stalled connection: %s", type(exc).__name__)


class Reader:
    """What ``FastQuery`` runs on: a pooled DBAPI connection and its dialect.

    A reader of the pool (not of a unit of work) may replace its connection once, when a
    statement finds it dead before reaching the server: a restarted database leaves every pooled
    connection dead, and a read can simply run again on a fresh one.
    """

    __slots__ = ("_lost", "_reconnect", "dialect", "pooled")

    def __init__(
        self,
        dialect: Dialect,
        pooled: PoolProxiedConnection,
        *,
        reconnect: Callable[[], PoolProxiedConnection] | None = None,
    ) -> None:
        self.dialect = dialect
        self.pooled = pooled
        self._reconnect = reconnect
        self._lost = False

    def replace_dead_connection(self, exc: Exception) -> bool:
        """After ``exc`` showed the connection dead: drop it, with every connection pooled before
        it (they died with it), and take a fresh one. False when this reader may not retry."""
        reconnect, self._reconnect = self._reconnect, None
        if reconnect is None:
            return False
        invalidate_pool(self.pooled, exc)
        self._lost = True
        self.pooled = reconnect()
        self._lost = False
        return True

    def release(self) -> None:
        if self._lost:
            return  # invalidated, so already back in its pool, and no fresh one could be had
        pooled = self.pooled
        # A connection lost meanwhile was invalidated (``driver_connection`` is gone) and
        # will not be reused: only a live one needs its transactions back.
        driver: Any = pooled.driver_connection
        if driver is not None and self.dialect.name == "postgresql":
            with contextlib.suppress(self.dialect.loaded_dbapi.Error):
                driver.autocommit = False
        pooled.close()


def reader_of(session: Session) -> Reader:
    """``FastQuery`` reads on the connection of ``session``'s unit of work."""
    connection = session.connection()
    return Reader(connection.dialect, connection.connection)


def invalidate_pool(pooled: PoolProxiedConnection, exc: BaseException) -> None:
    """Invalidate ``pooled`` and every connection its pool handed out before now: what SQLAlchemy
    does itself when a statement of a ``Connection`` finds the database gone."""
    pool = getattr(pooled, "_pool", None)
    if pool is not None:
        pool._invalidate(pooled, exc if isinstance(exc, Exception) else None)
    else:
        pooled.invalidate(exc if isinstance(exc, Exception) else None)


class FastQuery:
    """A fixed read statement run straight on the DBAPI cursor.

    SQLAlchemy still writes the SQL (once per dialect) and converts the results with the column
    types' own processors; only its per-execution machinery is skipped, which is most of the cost
    of a one-row lookup (see docs/decisions/0001-execution-model.md). Rows come back as tuples in
    the order of the statement's selected columns, as named tuples. Parameters must not need
    bind processing.
    """

    def __init__(self, stmt: AnySelect) -> None:
        self.stmt = stmt
        self._row: Any = namedtuple("FastRow", [c.key for c in stmt.selected_columns], rename=True)  # type: ignore[misc]
        self._prepared: dict[str, tuple[str, list[str] | None, dict[str, Any], list[tuple[int, Any]]]] = {}

    def _prepare(
        self, dialect: Dialect
    ) -> tuple[str, list[str] | None, dict[str, Any], list[tuple[int, Any]]]:
        compiled = self.stmt.compile(dialect=dialect)
        if compiled._bind_processors:
            raise TypeError("FastQuery parameters must not need bind processing")
        names = list(compiled.positiontup or ()) if compiled.positional else None
        # (position, processor) of the columns whose values need converting.
        processors = [
            (i, processor)
            for i, column in enumerate(self.stmt.selected_columns)
            if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
        ]
        prepared = (str(compiled), names, dict(compiled.params), processors)
        self._prepared[dialect.name] = prepared
        return prepared

    def all(self, reader: Reader, params: dict[str, Any]) -> list[Any]:
        dialect = reader.dialect
        sql, names, defaults, processors = self._prepared.get(dialect.name) or self._prepare(dialect)
        values = {**defaults, **params}
        raw = reader.pooled.driver_connection
        try:
            cursor = raw.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql, [values[n] for n in names] if names is not None else values)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, raw, None):
                if reader.replace_dead_connection(exc):
                    return self.all(reader, params)
                invalidate_pool(reader.pooled, exc)
                raise DBAPIError.instance(
                    sql, values, exc, dialect.loaded_dbapi.Error, connection_invalidated=True
                ) from exc
            raise DBAPIError.instance(sql, values, exc, dialect.loaded_dbapi.Error) from exc
        make = self._row._make
        if not processors:
            return [make(row) for row in rows]
        out = []
        for row in rows:
            converting = list(row)
            for i, process in processors:
                converting[i] = process(converting[i])
            out.append(make(converting))
        return out

    def first(self, reader: Reader, params: dict[str, Any]) -> Any:
        rows = self.all(reader, params)
        return rows[0] if rows else None


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


def _rollback_quietly(session: Session) -> None:
    # A failed rollback means the connection is gone; the pool has already invalidated it.
    with contextlib.suppress(DBAPIError):
        session.rollback()


def insert_ignoring(dialect: Dialect, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``table``: rows that collide with an existing key,
    any of its unique keys, are skipped."""
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def insert_ignore(session: Session | Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT rows, skipping those that collide with an existing key (idempotent link writes)."""
    if not rows:
        return
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    session.execute(insert_ignoring(dialect, table), rows)


class OrderedJoin(Join):
    """An inner join that SQLite must run with the left side as the outer loop.

    SQLite keeps the written order of a CROSS JOIN; elsewhere this is a plain JOIN.
    """

    inherit_cache = True


@compiles(OrderedJoin, "sqlite")
def _compile_ordered_join(join: OrderedJoin, compiler: Any, **kw: Any) -> str:
    assert join.onclause is not None
    kw["asfrom"] = True
    left = join.left._compiler_dispatch(compiler, **kw)
    right = join.right._compiler_dispatch(compiler, **kw)
    return f"{left} CROSS JOIN {right} ON {join.onclause._compiler_dispatch(compiler, **kw)}"
