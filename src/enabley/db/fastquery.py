"""``FastQuery``: a fixed read run straight on a pooled DBAPI connection (a ``Reader``)."""

from __future__ import annotations

import contextlib
from collections import namedtuple
from collections.abc import Callable
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection

from enabley.db.base import AnySelect
from enabley.db.compiled import Converter, bind_order, bind_processors, compile_for, result_processors


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
        self._prepared: dict[str, tuple[str, list[str] | None, dict[str, Any], Converter]] = {}

    def _prepare(self, dialect: Dialect) -> tuple[str, list[str] | None, dict[str, Any], Converter]:
        compiled = compile_for(self.stmt, dialect)
        if bind_processors(compiled):
            raise TypeError("FastQuery parameters must not need bind processing")
        names = bind_order(compiled) if compiled.positional else None
        converter = Converter(result_processors(self.stmt.selected_columns, dialect))
        prepared = (str(compiled), names, dict(compiled.params), converter)
        self._prepared[dialect.name] = prepared
        return prepared

    def all(self, reader: Reader, params: dict[str, Any]) -> list[Any]:
        dialect = reader.dialect
        sql, names, defaults, converter = self._prepared.get(dialect.name) or self._prepare(dialect)
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
        if not converter:
            return [make(row) for row in rows]
        return [make(converter.apply(row)) for row in rows]

    def first(self, reader: Reader, params: dict[str, Any]) -> Any:
        rows = self.all(reader, params)
        return rows[0] if rows else None
