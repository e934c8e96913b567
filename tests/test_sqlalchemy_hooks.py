"""Every SQLAlchemy internal the database layer relies on is still there and still behaves.

``enabley.db.compiled`` (FastQuery, the bulk statements), ``fastquery.invalidate_pool`` and
``sql.OrderedJoin`` reach past SQLAlchemy's public API (docs/decisions/0007-code-layout.md).
pyproject.toml pins SQLAlchemy's minor version; this test is what an upgrade must pass first.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, create_engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import QueuePool

from enabley.db import compiled
from enabley.db.columns import UtcDateTime
from enabley.db.fastquery import invalidate_pool
from enabley.db.sql import OrderedJoin, unindexed

_T = Table(
    "t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime), Column("n", String)
)
_U = Table("u", MetaData(), Column("id", Integer, primary_key=True), Column("t_id", Integer))

DIALECTS = {"sqlite": sqlite.pysqlite.dialect(), "postgresql": postgresql.psycopg.dialect()}


@pytest.fixture(params=sorted(DIALECTS))
def dialect(request: pytest.FixtureRequest) -> Dialect:
    return DIALECTS[request.param]


def test_a_compiled_statement_names_its_binds_in_placeholder_order(dialect):
    stmt = select(_T.c.id).where(_T.c.n == bindparam("b"), _T.c.id == bindparam("a"))
    assert compiled.bind_order(compiled.compile_for(stmt, compiled.positional(dialect))) == ["b", "a"]
    assert sorted(compiled.bind_order(compiled.compile_for(stmt, dialect))) == ["a", "b"]


def test_bind_processors_are_found_by_bind_name(dialect):
    stmt = select(_T.c.id).where(_T.c.at == bindparam("when"), _T.c.id == bindparam("id"))
    processors = compiled.bind_processors(compiled.compile_for(stmt, dialect))
    assert "id" not in processors
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert processors["when"](when) in (when, "2026-01-02 03:04:05.000000")


def test_result_processors_convert_by_position(dialect):
    processors = compiled.result_processors(select(_T.c.id, _T.c.at).selected_columns, dialect)
    assert [i for i, _ in processors] == [1]
    raw = "2026-01-02 03:04:05.000000" if dialect.name == "sqlite" else datetime(2026, 1, 2, 3, 4, 5)
    assert processors[0][1](raw) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_an_expanding_bind_compiles_to_its_mark(dialect):
    stmt = select(_T.c.id).where(_T.c.id.in_(bindparam("keys", expanding=True)))
    sql = str(compiled.compile_for(stmt, compiled.positional(dialect)))
    assert f"IN ({compiled.expanding_mark('keys')})" in sql


def test_a_twin_dialect_writes_format_placeholders():
    twin = compiled.positional(DIALECTS["postgresql"])
    assert (twin.name, twin.positional, twin.paramstyle) == ("postgresql", True, "format")
    stmt = select(_T.c.id).where(_T.c.n == bindparam("b"))
    assert "t.n = %s" in str(compiled.compile_for(stmt, twin))
    assert compiled.positional(DIALECTS["sqlite"]) is DIALECTS["sqlite"]


def test_an_ordered_join_compiles_as_a_cross_join_on_sqlite_only():
    join = OrderedJoin(_T, _U, _T.c.id == _U.c.t_id)
    stmt = select(_T.c.id).select_from(join)
    assert "t CROSS JOIN u ON t.id = u.t_id" in str(stmt.compile(dialect=DIALECTS["sqlite"]))
    assert "t JOIN u ON t.id = u.t_id" in str(stmt.compile(dialect=DIALECTS["postgresql"]))


def test_an_unindexed_column_is_prefixed_on_sqlite_only():
    stmt = select(_T.c.id).where(unindexed(_T.c.n).in_([1, 2]))
    assert "+t.n IN" in str(stmt.compile(dialect=DIALECTS["sqlite"], compile_kwargs={"literal_binds": True}))
    postgres = str(stmt.compile(dialect=DIALECTS["postgresql"], compile_kwargs={"literal_binds": True}))
    assert "t.n IN (1, 2)" in postgres and "+" not in postgres


def test_invalidating_a_pooled_connection_invalidates_those_pooled_before_it(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/pool.db", poolclass=QueuePool, pool_size=2)
    try:
        first, second = engine.raw_connection(), engine.raw_connection()
        first_driver = first.driver_connection
        first.close()
        invalidate_pool(second, RuntimeError("gone"))
        assert second.driver_connection is None
        again = [engine.raw_connection(), engine.raw_connection()]
        assert first_driver not in [c.driver_connection for c in again]
        for connection in again:
            connection.close()
    finally:
        engine.dispose()
