"""Bulk statements on the session's connection: Core statements of the model tables, compiled
once per dialect, run straight on the DBAPI cursor inside the session's transaction.

Like ``db.FastQuery`` for reads: SQLAlchemy writes the SQL and the column types' own bind
processors convert the values; only SQLAlchemy's per-row parameter handling is skipped, which
measured on the benchmark machine costs several times what SQLite spends storing the row
(bench/README.md); reads by a list of keys likewise. Inserts go as multi-row ``INSERT ...
VALUES`` statements: a statement per row would also pay per statement for whatever the
table's triggers maintain (SQLite's search index of users, for one). Processed values are
memoised: those that need processing repeat (timestamps, role lists).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Dialect, Table, bindparam
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
    session: Session,
    dialect: Dialect,
    sql: str,
    params: Any,
    *,
    many: bool,
    fetch: bool = False,
    native: bool = False,
) -> list[Any]:
    raw = session.connection().connection.driver_connection
    if native:
        from psycopg import RawCursor

        cursor = RawCursor(raw)  # type: ignore[arg-type]
    else:
        cursor = raw.cursor()  # type: ignore[union-attr]
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

    def run(
        self, session: Session, rows: Iterable[Sequence[Any]], constants: Sequence[Any] = ()
    ) -> list[Any]:
        """Insert; answers the ``returning`` columns of the new rows, in no particular order.
        ``constants`` are the last keys' values, the same in every row."""
        dialect = session.connection().dialect
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

    def run(self, session: Session, rows: Iterable[Sequence[Any]]) -> None:
        dialect = session.connection().dialect
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

    def all(self, session: Session, keys: Sequence[Any]) -> list[tuple[Any, ...]]:
        if not keys:
            return []
        connection = session.connection()
        dialect = connection.dialect
        read = self._prepare(dialect)
        if read.array:
            sql, params = read.head, [*read.before, list(keys), *read.after]
        else:
            sql = read.head + ", ".join([read.placeholder] * len(keys)) + read.tail
            params = [*read.before, *keys, *read.after]
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
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
