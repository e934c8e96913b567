"""A unit of work opened without ``write=True`` can't write, on either database: the write fails
instead of running without what a write unit takes (row locks, SQLite's write lock up front)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from enabley import migrate
from enabley.db.database import Database
from enabley.db.engine import WriteInReadUnit, make_engine
from enabley.models import Account
from tests import factories


def _accounts(session) -> int:
    return session.scalar(select(func.count()).select_from(Account).where(Account.name.like("ro-%")))


def test_a_write_in_a_read_unit_fails_and_write_units_still_write(db, app_database):
    """On the tests' shared connection, where each unit is a savepoint of the test's transaction."""
    with pytest.raises(WriteInReadUnit), app_database.session() as session:
        factories.make_account(session, "ro-read")
    with app_database.session(write=True) as session:
        factories.make_account(session, "ro-write")
    with app_database.session() as session:
        assert _accounts(session) == 1


def test_a_read_unit_refused_by_its_check_leaves_the_shared_connection_writable(db, app_database):
    def refuse(_connection):
        raise RuntimeError("client revoked")

    with pytest.raises(RuntimeError), app_database.session(check=refuse):
        pass
    with app_database.session(write=True) as session:
        factories.make_account(session, "ro-after-refusal")
    factories.make_account(db, "ro-by-the-test-itself")


@pytest.fixture
def database(scratch):
    url = scratch.new()
    migrate.upgrade(url)
    # One connection: every unit below reuses the one the unit before it left in the pool.
    db = Database(make_engine(url, pool_size=1, read_only_by_default=True))
    yield db
    db.dispose()


def test_a_write_in_a_read_unit_fails_on_a_server_engine(database):
    with pytest.raises(WriteInReadUnit), database.session() as session:
        factories.make_account(session, "ro-read")
    with database.session(write=True) as session:
        factories.make_account(session, "ro-write")
    with pytest.raises(WriteInReadUnit), database.session() as session:
        factories.make_account(session, "ro-read-again")
    with database.session(write=True) as session:
        assert _accounts(session) == 1
        factories.make_account(session, "ro-write-again")
    with database.session() as session:
        assert _accounts(session) == 2


def test_the_autocommit_reads_of_a_server_engine_cannot_write(database, backend):
    if backend != "postgresql":
        pytest.skip("SQLite's reads run FastQuery's SELECTs only; they need no switch")
    errors = database.engine.dialect.loaded_dbapi.Error
    with database.read() as reader, pytest.raises(errors, match="read-only"):
        cursor = reader.pooled.driver_connection.cursor()
        cursor.execute("INSERT INTO server_secrets (name, value) VALUES ('ro', 'x')")
    with database.session(write=True) as session:
        factories.make_account(session, "ro-after-read")
