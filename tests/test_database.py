"""The database layer on a real engine (not the tests' shared connection): reads and transactions
share one pool, and a read leaves its connection as a transaction expects to find it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from enabley import migrate
from enabley.db.database import Database
from enabley.db.engine import make_engine
from enabley.db.fastquery import FastQuery
from enabley.models import Account
from tests import factories

_ACCOUNTS = FastQuery(select(func.count()).select_from(Account))


@pytest.fixture
def database(scratch):
    url = scratch.new()
    migrate.upgrade(url)
    db = Database(make_engine(url, pool_size=1))
    yield db
    db.dispose()


def test_a_rolled_back_transaction_after_a_read_on_the_same_connection_leaves_nothing(database):
    with database.read() as reader:
        assert _ACCOUNTS.first(reader, {})[0] == 0
    # The pool holds one connection: the session below gets the one the read used.
    with pytest.raises(RuntimeError), database.session(write=True) as session:
        factories.make_account(session, "rolled-back")
        session.flush()
        raise RuntimeError("fail after the write")
    with database.read() as reader:
        assert _ACCOUNTS.first(reader, {})[0] == 0


def test_a_read_sees_what_a_committed_transaction_wrote(database):
    with database.read() as reader:
        assert _ACCOUNTS.first(reader, {})[0] == 0
    with database.session(write=True) as session:
        factories.make_account(session, "kept")
    with database.read() as reader:
        assert _ACCOUNTS.first(reader, {})[0] == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1


def test_a_read_whose_connection_was_lost_hands_it_back_quietly(database):
    """A FastQuery that meets a lost connection invalidates it; leaving the read must not fail
    on the connection that is gone (the request answers 503, not a dropped socket)."""
    with database.read() as reader:
        reader.pooled.invalidate()
    with database.read() as reader:
        assert _ACCOUNTS.first(reader, {})[0] == 0
