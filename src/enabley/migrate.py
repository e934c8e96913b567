"""Schema migrations to head, safe when several processes start at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from enabley.config import get_settings
from enabley.db.engine import WRITE_OPTION, make_engine

SCRIPT_LOCATION = "enabley:migrations"
# Any constant: PostgreSQL advisory lock id held while migrating.
_PG_LOCK_ID = 0x656E61626C6579


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave out of schema comparisons what the migrations make by hand for one dialect: the
    SQLite FTS5 search table (and its shadow tables) and the PostgreSQL trigram indexes."""
    if name is None:
        return True
    if type_ == "table" and name.startswith("users_search"):
        return False
    return not (type_ == "index" and name.endswith("_trgm"))


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("sqlalchemy.url", url or get_settings().database_url)
    return config


@contextmanager
def locked_connection(url: str | None) -> Iterator[Connection]:
    """A connection in a transaction that holds the migration lock until it commits.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: BEGIN IMMEDIATE, which every other
    writer waits behind. A second process therefore migrates after the first, finding nothing to do.
    """
    engine = make_engine(url or get_settings().database_url, pool_size=1, timeout=120)
    try:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            if conn.dialect.name == "sqlite":
                # SQLite changes a table by building a new one and dropping the old: with foreign
                # keys on, that drop would delete every row referencing the table. Off for this
                # connection only (it can't change inside a transaction); the migration checks
                # them before it commits (migrations/env.py).
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
                yield conn
    finally:
        engine.dispose()


def check_foreign_keys(conn: Connection) -> None:
    """SQLite: fail, before the commit, a migration that left a row referencing nothing."""
    if conn.dialect.name != "sqlite":
        return
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"The migration left rows whose foreign keys reference nothing: {broken[:10]}")


def upgrade(url: str | None = None) -> None:
    config = alembic_config(url)
    with locked_connection(url) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def current_revision(url: str | None = None) -> str | None:
    with locked_connection(url) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
