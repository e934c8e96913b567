"""Bulk statements on the session's connection: Core statements of the model tables, compiled
once per dialect, run straight on the DBAPI cursor inside the session's transaction.

Like ``db.FastQuery`` for reads: SQLAlchemy writes the SQL and the column types' own bind
processors convert the values; only SQLAlchemy's per-row parameter handling is skipped, which
measured on the benchmark machine costs several times what SQLite spends storing the row
(bench/README.md); reads by a list of keys likewise. Inserts go as multi-row ``INSERT ...
VALUES`` statements: a statement per row would also pay per statement for whatever the
table's triggers maintain (SQLite's search index of users, for one). Processed values are
memoised: those that need processing repeat (timestamps, role lists).

On PostgreSQL with psycopg, rows that cannot conflict go by ``COPY ... FROM STDIN`` instead
(``BulkCopy``): the server parses no statement and plans nothing for them, and of what it spends
on a bulk insert that is the part a client can save (bench/README.md). ``WriteBehind`` runs
writes on a thread of its own, on the session's connection, so that the database works on one
batch while the caller prepares the next.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from operator import itemgetter
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Dialect, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from enabley.db.compiled import (
    Converter,
    bind_order,
    bind_processors,
    expanding_mark,
    positional,
    result_processors,
)

T = TypeVar("T")


ROWS_PER_STATEMENT = 500
EXECUTEMANY_BATCH = 5000
_MAX_PARAMETERS = 30_000  # under SQLite's 32,766 and PostgreSQL's 65,535


def binds(keys: Iterable[str]) -> dict[str, Any]:
    """``{key: bindparam}`` for ``.values()``: a bind may not take a column's own name there."""
    return {key: bind(key) for key in keys}


def bind(key: str) -> Any:
    return bindparam(f"p_{key}")


@dataclass(frozen=True, slots=True)
class Direct:
    """A session's DBAPI connection and dialect, taken once on the session's thread: what the
    bulk statements run on when another thread runs them (``WriteBehind``), which must not touch
    the session. The driver serialises the two threads' statements on the connection (psycopg's
    connections are thread-safe; its cursors, one per statement here, are not shared)."""

    dialect: Dialect
    driver: Any

    @classmethod
    def of(cls, target: Session | Direct) -> Direct:
        if isinstance(target, Direct):
            return target
        connection = target.connection()
        return cls(connection.dialect, connection.connection.driver_connection)


Target = Session | Direct


def _native(dialect: Dialect) -> bool:
    """psycopg takes PostgreSQL's own ``$n`` placeholders through its RawCursor: for a statement
    of thousands of parameters it would otherwise rewrite ``%s`` into them in Python, each time
    (its cache of rewritten statements skips long ones)."""
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def _numbered(sql: str) -> str:
    if "%%" in sql:
        raise RuntimeError(f"a literal % in a bulk statement: {sql[:200]}")
    parts = sql.split("%s")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], start=1)) + parts[-1]


def _execute(
    session: Target,
    dialect: Dialect,
    sql: str,
    params: Any,
    *,
    many: bool,
    fetch: bool = False,
    native: bool = False,
) -> list[Any]:
    raw = Direct.of(session).driver
    if native:
        from psycopg import RawCursor

        cursor = RawCursor(raw)
    else:
        cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        return list(cursor.fetchall()) if fetch else []
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True) from exc
    finally:
        cursor.close()


def execute(target: Target, sql: str, params: Sequence[Any]) -> int:
    """``sql``, written with the driver's own placeholders, on the target's connection; answers
    how many rows it wrote. psycopg prepares a statement run often on one connection."""
    direct = Direct.of(target)
    cursor = direct.driver.cursor()
    try:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
    except direct.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            sql, None, exc, direct.dialect.loaded_dbapi.Error, hide_parameters=True
        ) from exc
    finally:
        cursor.close()


class BulkInsert:
    """INSERT rows of ``keys`` into ``table``, up to 500 rows per statement; ``ignore_conflicts``
    skips rows whose key exists (a link added meanwhile by a concurrent request).

    SQLAlchemy compiles the statement for one row and for two; the second row's text is then
    repeated for as many rows as a statement carries (compiling 500 rows of binds would cost
    more than inserting them).
    """

    def __init__(
        self,
        table: Table,
        keys: Sequence[str],
        *,
        ignore_conflicts: bool = False,
        returning: Sequence[str] = (),
    ) -> None:
        self.table, self.keys, self.ignore = table, list(keys), ignore_conflicts
        self.returning = [table.c[name] for name in returning]
        self.per_statement = max(1, min(ROWS_PER_STATEMENT, _MAX_PARAMETERS // len(self.keys)))
        self._prepared: dict[str, tuple[str, str, str, Callable[[Sequence[Any]], Any], Converter]] = {}
        self._texts: dict[tuple[str, int], str] = {}

    def _compile(self, dialect: Dialect, rows: int) -> Any:
        module = postgresql if dialect.name == "postgresql" else sqlite
        values: list[dict[str, Any]] = [
            {key: bindparam(f"p{i}_{j}") for j, key in enumerate(self.keys)} for i in range(rows)
        ]
        stmt = module.insert(self.table).values(values)
        if self.ignore:
            stmt = stmt.on_conflict_do_nothing()
        if self.returning:
            stmt = stmt.returning(*self.returning)
        return stmt.compile(dialect=dialect)

    def _prepare(self, dialect: Dialect) -> tuple[str, str, str, Callable[[Sequence[Any]], Any], Converter]:
        found = self._prepared.get(dialect.name)
        if found is not None:
            return found
        twin = positional(dialect)
        one, two = self._compile(twin, 1), self._compile(twin, 2)
        names = bind_order(one)
        if sorted(names) != sorted(f"p0_{j}" for j in range(len(self.keys))) or bind_order(two) != names + [
            name.replace("p0_", "p1_", 1) for name in names
        ]:
            raise RuntimeError(f"unexpected INSERT for {self.table.name}: {one}")
        sql1, sql2 = str(one), str(two)
        cut = next((i for i, (a, b) in enumerate(zip(sql1, sql2, strict=False)) if a != b), len(sql1))
        repeated = sql2[cut : cut + len(sql2) - len(sql1)]
        if sql2 != sql1[:cut] + repeated + sql1[cut:]:
            raise RuntimeError(f"unexpected INSERT for {self.table.name}: {two}")
        order = [int(name.split("_")[1]) for name in names]
        get: Callable[[Sequence[Any]], Any] = (
            itemgetter(*order) if len(order) > 1 else (lambda r: (r[order[0]],))
        )
        processors = bind_processors(self._compile(dialect, 1))
        by_key = [(j, processors[f"p0_{j}"]) for j in range(len(self.keys)) if f"p0_{j}" in processors]
        prepared = (sql1[:cut], repeated, sql1[cut:], get, Converter(by_key))
        self._prepared[dialect.name] = prepared
        return prepared

    def _sql(self, dialect: Dialect, rows: int) -> str:
        sql = self._texts.get((dialect.name, rows))
        if sql is None:
            head, repeated, tail, _, _ = self._prepare(dialect)
            sql = head + repeated * (rows - 1) + tail
            if _native(dialect):
                sql = _numbered(sql)
            if len(self._texts) < 16:  # full batches, and a few sizes of last batch
                self._texts[(dialect.name, rows)] = sql
        return sql

    def run(self, session: Target, rows: Iterable[Sequence[Any]], constants: Sequence[Any] = ()) -> list[Any]:
        """Insert; answers the ``returning`` columns of the new rows, in no particular order.
        ``constants`` are the last keys' values, the same in every row."""
        session = Direct.of(session)
        dialect = session.dialect
        _, _, _, get, processors = self._prepare(dialect)
        native = _native(dialect)
        per_row, constant = processors.split(len(self.keys) - len(constants))
        tail = tuple(constant.apply(constants))
        memos = per_row.memos()
        returned: list[Any] = []
        for batch in chunks(rows, self.per_statement):
            if tail:
                params = list(chain.from_iterable(get((*per_row.apply(row, memos), *tail)) for row in batch))
            else:
                params = list(chain.from_iterable(get(per_row.apply(row, memos)) for row in batch))
            sql = self._sql(dialect, len(batch))
            returned.extend(
                _execute(session, dialect, sql, params, many=False, fetch=bool(self.returning), native=native)
            )
        return returned


def analyze(target: Target, table: Table, *, wait_ms: int = 100) -> bool:
    """``ANALYZE table`` within the transaction (PostgreSQL counts the rows the transaction wrote
    itself), unless another transaction's ANALYZE of it still holds it: ANALYZE keeps its lock
    until the transaction ends, and this one waits at most ``wait_ms`` for it, then goes on
    without. Answers whether it ran."""
    direct = Direct.of(target)
    dialect = direct.dialect
    name = dialect.identifier_preparer.format_table(table)

    def run(sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return _execute(direct, dialect, sql, list(params), many=False, fetch=sql.startswith("SELECT"))

    ((previous,),) = run("SELECT current_setting('lock_timeout')")
    run("SAVEPOINT enabley_analyze")
    try:
        run("SELECT set_config('lock_timeout', %s, true)", [f"{wait_ms}ms"])
        run(f"ANALYZE {name}")
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        run("ROLLBACK TO SAVEPOINT enabley_analyze")
        return False
    run("RELEASE SAVEPOINT enabley_analyze")
    run("SELECT set_config('lock_timeout', %s, true)", [previous])
    return True


def estimated_rows(target: Target, table: Table) -> float:
    """The rows PostgreSQL's statistics count in ``table`` (-1: never counted)."""
    direct = Direct.of(target)
    sql = "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)"
    ((rows,),) = _execute(direct, direct.dialect, sql, [table.fullname], many=False, fetch=True)
    return float(rows)


class LocalSettings:
    """PostgreSQL settings changed for a few statements at a time, within the session's
    transaction: ``with settings:`` sets them, leaving sets them back as they were."""

    def __init__(self, session: Session, changed: dict[str, str]) -> None:
        self.session, self.changed = session, changed
        current = session.execute(select(*(func.current_setting(name) for name in changed))).one()
        self.previous = dict(zip(changed, current, strict=True))

    def _set(self, values: dict[str, str]) -> None:
        self.session.execute(select(*(func.set_config(name, value, True) for name, value in values.items())))

    def __enter__(self) -> None:
        self._set(self.changed)

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:  # else the transaction is rolled back, and the settings with it
            self._set(self.previous)


def copies(target: Target) -> bool:
    """Whether ``BulkCopy`` runs on ``target``: PostgreSQL through psycopg."""
    return _native(Direct.of(target).dialect)


def _copy(session: Target, dialect: Dialect, sql: str, rows: Iterable[Sequence[Any]] | str) -> None:
    cursor = Direct.of(session).driver.cursor()
    try:
        with cursor.copy(sql) as copy:
            if isinstance(rows, str):
                copy.write(rows)
            else:
                for row in rows:
                    copy.write_row(row)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True) from exc
    finally:
        cursor.close()


class BulkCopy:
    """``COPY table (keys) FROM STDIN`` (text format) on PostgreSQL through psycopg, for rows
    that cannot conflict with any stored row; values are converted by the columns' bind
    processors, as ``BulkInsert`` converts them.

    With ``numbered``, the rows get their integer key from the column's sequence first (one
    ``nextval`` per row, drawn in one statement) and ``run`` answers those keys in the rows'
    order: COPY answers nothing, where an INSERT would answer ``RETURNING``.
    """

    def __init__(self, table: Table, keys: Sequence[str], *, numbered: str | None = None) -> None:
        self.table, self.keys, self.numbered = table, list(keys), numbered
        self._prepared: dict[str, tuple[str, str | None, Converter]] = {}

    def _prepare(self, dialect: Dialect) -> tuple[str, str | None, Converter]:
        found = self._prepared.get(dialect.name)
        if found is not None:
            return found
        quote = dialect.identifier_preparer
        keys = [self.numbered, *self.keys] if self.numbered else self.keys
        columns = ", ".join(quote.format_column(self.table.c[key]) for key in keys)
        sql = f"COPY {quote.format_table(self.table)} ({columns}) FROM STDIN"
        ids = None
        if self.numbered:
            ids = (
                "SELECT nextval(pg_get_serial_sequence($1::text, $2::text)) "
                "FROM generate_series(1, $3::integer)"
            )
        processors = []
        for j, key in enumerate(keys):
            process = self.table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((j, process))
        prepared = (sql, ids, Converter(processors))
        self._prepared[dialect.name] = prepared
        return prepared

    def run(self, session: Target, rows: Sequence[Sequence[Any]], constants: Sequence[Any] = ()) -> list[int]:
        """Copy ``rows`` (each followed by ``constants``, the last keys' values); answers the
        keys given to them when ``numbered``, in their order."""
        if not rows:
            return []
        session = Direct.of(session)
        dialect = session.dialect
        sql, ids_sql, processors = self._prepare(dialect)
        ids: list[int] = []
        if ids_sql is not None:
            params = [self.table.fullname, self.numbered, len(rows)]
            drawn = _execute(session, dialect, ids_sql, params, many=False, fetch=True, native=True)
            ids = [row[0] for row in drawn]
            full: Iterable[Sequence[Any]] = (
                (id_, *row, *constants) for id_, row in zip(ids, rows, strict=True)
            )
        else:
            full = ((*row, *constants) for row in rows) if constants else rows
        memos = processors.memos()
        _copy(session, dialect, sql, (processors.apply(row, memos) for row in full))
        return ids

    def run_text(self, session: Target, text: str) -> None:
        """Copy rows the caller wrote in COPY's text format already (the values of ``keys``,
        escaped, tab-separated, a row a line): a caller that can format its rows at once saves
        the driver's conversion value by value, most of what a COPY costs the client."""
        session = Direct.of(session)
        sql, ids_sql, _ = self._prepare(session.dialect)
        if ids_sql is not None:
            raise RuntimeError("a numbered COPY draws its keys: give its rows to run()")
        _copy(session, session.dialect, sql, text)


class WriteBehind:
    """Runs write jobs, in the order given, on a thread of its own while the caller goes on
    (``threaded``), or at once on the caller's thread.

    A job runs on a ``Direct`` connection and never on the session, which stays the caller's.
    At most ``depth`` jobs wait, so a fast caller does not pile up what is left to write. The
    first job that fails stops the rest; its error is raised to the caller by the next
    ``submit`` or by ``close``, and on leaving the ``with`` block, in place of the error the
    caller then met (the transaction the job broke fails the caller's next statement too).
    """

    def __init__(self, *, threaded: bool, depth: int = 2) -> None:
        self.error: BaseException | None = None
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._work, name="enabley-write-behind", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self.error is None:
                try:
                    job()
                except BaseException as exc:  # handed to the caller's thread
                    self.error = exc

    def submit(self, job: Callable[[], None]) -> None:
        self._raise()
        if self._thread is None:
            job()
        else:
            self._jobs.put(job)

    def close(self) -> None:
        """Wait for every job; raises the first error."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.close()
            return
        # Leave at once: the jobs still waiting are dropped, the one running ends first (it
        # holds the connection the caller's transaction is rolled back on).
        failed = self.error
        if self._thread is not None:
            self.error = exc  # the worker skips what is left
            while True:
                try:
                    self._jobs.get_nowait()
                except queue.Empty:
                    break
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
            if failed is None and self.error is not exc:
                failed = self.error  # the job running failed meanwhile
        self.error = None
        # Whichever failed first is the cause: the other then found the transaction aborted.
        if failed is not None and not _aborted(failed):
            raise failed from None


def _aborted(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL's answer to a statement of a transaction already failed."""
    return getattr(getattr(exc, "orig", exc), "sqlstate", None) == "25P02"


class BulkWrite:
    """An UPDATE or DELETE run with executemany. ``build()`` makes the statement, its binds made
    by ``binds()``/``bind()``; each row given to ``run`` holds the values of ``keys`` in order."""

    def __init__(self, build: Callable[[], Any], keys: Sequence[str]) -> None:
        self.build, self.keys = build, list(keys)
        self._prepared: dict[
            str, tuple[str, list[str] | None, Callable[[Sequence[Any]], Any], Converter]
        ] = {}

    def _prepare(
        self, dialect: Dialect
    ) -> tuple[str, list[str] | None, Callable[[Sequence[Any]], Any], Converter]:
        found = self._prepared.get(dialect.name)
        if found is not None:
            return found
        compiled = self.build().compile(dialect=dialect)
        names = bind_order(compiled)
        index = {f"p_{key}": i for i, key in enumerate(self.keys)}
        positions = [index[name] for name in names]

        def pick(row: Sequence[Any]) -> list[Any]:
            return [row[i] for i in positions]

        processors = bind_processors(compiled)
        prepared = (
            str(compiled),
            None if compiled.positional else names,
            pick,
            Converter([(k, processors[name]) for k, name in enumerate(names) if name in processors]),
        )
        self._prepared[dialect.name] = prepared
        return prepared

    def run(self, session: Target, rows: Iterable[Sequence[Any]]) -> None:
        session = Direct.of(session)
        dialect = session.dialect
        sql, names, pick, processors = self._prepare(dialect)
        memos = processors.memos()
        for batch in chunks(rows, EXECUTEMANY_BATCH):
            params: list[Any] = [processors.apply(pick(row), memos) for row in batch]
            if names is not None:
                params = [dict(zip(names, values, strict=True)) for values in params]
            _execute(session, dialect, sql, params, many=True)


class KeyedRead:
    """A SELECT whose ``bindparam("keys", expanding=True)`` takes a list of keys (``IN``).

    Compiled once; each run writes as many placeholders as it has keys, as SQLAlchemy itself
    does for an expanding parameter (on PostgreSQL, one array parameter and ``= ANY``). Rows come
    back as tuples in the order of the selected columns, converted by the column types' result
    processors (as ``db.FastQuery`` does).
    """

    TOKEN = expanding_mark("keys")

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self._prepared: dict[str, _Read] = {}

    def _prepare(self, dialect: Dialect) -> _Read:
        found = self._prepared.get(dialect.name)
        if found is not None:
            return found
        twin = positional(dialect)
        compiled = self.stmt.compile(dialect=twin)
        sql = str(compiled)
        names = bind_order(compiled)
        marked = f"IN ({self.TOKEN})"
        if sql.count(marked) != 1 or names.count("keys") != 1 or bind_processors(compiled):
            raise RuntimeError(f"unexpected keyed read: {sql}")
        at = names.index("keys")
        array = _native(dialect)
        if array:
            # One array parameter rather than thousands: PostgreSQL compares with ``= ANY``.
            head, tail = sql.replace(marked, "= ANY (%s)"), ""
        else:
            head, tail = sql.split(self.TOKEN)
        values = compiled.params
        read = _Read(
            head=head,
            tail=tail,
            placeholder="?" if twin.paramstyle == "qmark" else "%s",
            array=array,
            before=[values[n] for n in names[:at]],
            after=[values[n] for n in names[at + 1 :]],
            processors=Converter(result_processors(self.stmt.selected_columns, dialect)),
        )
        self._prepared[dialect.name] = read
        return read

    def all(self, target: Target, keys: Sequence[Any]) -> list[tuple[Any, ...]]:
        if not keys:
            return []
        direct = Direct.of(target)
        dialect = direct.dialect
        read = self._prepare(dialect)
        if read.array:
            sql, params = read.head, [*read.before, list(keys), *read.after]
        else:
            sql = read.head + ", ".join([read.placeholder] * len(keys)) + read.tail
            params = [*read.before, *keys, *read.after]
        cursor = direct.driver.cursor()
        try:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True
            ) from exc
        finally:
            cursor.close()
        if not read.processors:
            return [tuple(row) for row in rows]
        # Processed values repeat (role lists): each distinct one is converted once.
        memos = read.processors.memos()
        return [tuple(read.processors.apply(row, memos)) for row in rows]


@dataclass(frozen=True, slots=True)
class _Read:
    head: str
    tail: str
    placeholder: str
    array: bool
    before: list[Any]
    after: list[Any]
    processors: Converter


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
