"""``Database``: the units of work of a request, the threads they run on, and the 503s they can end in.

Every request handler opens exactly one unit of work (``Database.session``, or ``Database.read``
for a few ``FastQuery`` lookups) and finishes it before it returns: the commit happens before the
response leaves, and no ``await`` can fall between a write and its commit (see
docs/decisions/0001-execution-model.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection, QueuePool

from enabley.db.engine import (
    READ_ONLY_OPTION,
    WRITE_OPTION,
    WriteInReadUnit,
    is_lock_timeout,
    is_read_only_violation,
    is_statement_timeout,
    is_unavailable,
    make_engine,
)
from enabley.db.fastquery import Reader
from enabley.db.stall import StallWatch
from enabley.errors import ServiceUnavailable

T = TypeVar("T")
P = ParamSpec("P")


class Database:
    """The engine, the units of work opened on it, and the threads they run on.

    ``bind`` is the engine, except in tests, where it is one connection inside a transaction
    that is rolled back after each test.

    A request's database work runs on the database's own threads (``run``), never on the event
    loop, except the bounded index probes that SQLite answers from its own file (``probes_inline``):
    see docs/decisions/0006-execution-model.md.
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
        engine = make_engine(
            url,
            pool_size=pool_size,
            timeout=timeout,
            statement_timeout=statement_timeout,
            read_only_by_default=True,
        )
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

        Unless ``write``, the transaction is read-only: a statement that writes fails (PostgreSQL
        BEGIN READ ONLY, SQLite ``query_only``), rather than run without the write's locks (the
        row locks of ``locked``, SQLite's write lock taken up front). ``check`` runs first,
        inside the transaction (the tenant uses it to confirm its client).
        """
        with self._sharing(), self._writer(write), self._opened(write=write, check=check) as session:
            try:
                yield session
                session.commit()
            except BaseException as exc:
                _rollback_quietly(session)
                if not write and is_read_only_violation(exc):
                    raise WriteInReadUnit(
                        "a unit of work opened to read wrote: open it with write=True"
                    ) from exc
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
        options = self._unit_options(write)
        retries = 1 if check is not None and isinstance(self.bind, Engine) else 0
        while True:
            session = self.new_session()
            try:
                connection = session.connection(execution_options=options)
                if not write and isinstance(self.bind, Connection):
                    self._read_only_savepoint(connection)
                if check is not None:
                    check(connection)
                break
            except BaseException as exc:
                _rollback_quietly(session)
                session.close()
                self._end_shared_read(write)
                if retries and isinstance(exc, DBAPIError) and exc.connection_invalidated:
                    self._refuse_if_frozen()
                    retries -= 1
                    continue
                if is_unavailable(exc):
                    raise self.unavailable(exc) from exc
                raise
        try:
            with session:
                yield session
        finally:
            self._end_shared_read(write)

    def _unit_options(self, write: bool) -> dict[str, Any]:
        """A write unit begins READ WRITE and takes SQLite's write lock; a read unit begins READ
        ONLY (PostgreSQL: the same one BEGIN statement; SQLite: ``_on_begin`` sets ``query_only``)."""
        # Both, always: the tests' shared connection keeps the options of the unit before.
        options: dict[str, Any] = {WRITE_OPTION: write, READ_ONLY_OPTION: not write}
        if self.dialect == "postgresql" and isinstance(self.bind, Engine):
            options["postgresql_readonly"] = not write
        return options

    @staticmethod
    def _read_only_savepoint(connection: Connection) -> None:
        """A read unit on the tests' shared connection runs in a savepoint of its transaction,
        which no BEGIN opens: it is made read-only in place. PostgreSQL restores read-write when
        the savepoint ends, however it ends; SQLite's switch is undone when the unit ends."""
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        else:
            connection.exec_driver_sql("PRAGMA query_only=1")

    def _end_shared_read(self, write: bool) -> None:
        if not write and isinstance(self.bind, Connection) and self.dialect == "sqlite":
            with contextlib.suppress(DBAPIError):
                self.bind.exec_driver_sql("PRAGMA query_only=0")

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


def _rollback_quietly(session: Session) -> None:
    # A failed rollback means the connection is gone; the pool has already invalidated it.
    with contextlib.suppress(DBAPIError):
        session.rollback()
