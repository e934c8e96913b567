"""SQL constructs SQLAlchemy lacks: INSERT skipping existing keys or adding to them, a join SQLite
runs in order, a column SQLite must not seek by."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import Join


def insert_ignoring(dialect: Dialect, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``table``: rows that collide with an existing key,
    any of its unique keys, are skipped."""
    return _insert(dialect, table).on_conflict_do_nothing()


def _insert(dialect: Dialect, table: Any) -> Any:
    """The dialect's INSERT, which has ON CONFLICT."""
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def insert_adding(dialect: Dialect, table: Any, keys: list[str], column: str) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE``: a row whose key exists adds its ``column`` to the
    existing row's (tallies)."""
    stmt = _insert(dialect, table)
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={column: table.c[column] + stmt.excluded[column]}
    )


def insert_setting(dialect: Dialect, table: Any, keys: list[str], values: dict[str, Any]) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET values``: a row whose key exists is updated,
    and locked, instead."""
    return _insert(dialect, table).on_conflict_do_update(index_elements=keys, set_=values)


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


class unindexed(FunctionElement[Any]):
    """A column that SQLite must not reach through an index in the term it appears in (a unary
    ``+``, SQLite's way to say so); the column itself elsewhere. For a test on rows already
    found by another index, which SQLite would otherwise turn into one index seek per value
    of an ``IN`` list."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _compile_unindexed(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(element.clauses._compiler_dispatch(compiler, **kw))


@compiles(unindexed, "sqlite")
def _compile_unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(element.clauses._compiler_dispatch(compiler, **kw))
