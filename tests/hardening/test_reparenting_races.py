"""Two transactions re-parenting groups at once must never close a cycle.

Runs on committed data in its own account (removed at the end), outside the per-test rollback,
because the rule is about two real transactions.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.db.database import Database
from enabley.errors import InvalidRequest
from enabley.groups import service
from enabley.groups.schemas import GroupData
from tests import factories


def reparent(session, tenant, identifier, parent):
    return service.upsert_group(
        session, tenant, GroupData(identifier=identifier, name=identifier, parent_identifier=parent)
    )


@pytest.fixture
def committed_tenant(backend, engine):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers for the whole transaction (BEGIN IMMEDIATE)")
    database = Database(engine)
    name = factories.unique("concurrency")
    with database.session(write=True) as session:
        account = factories.make_account(session, name)
        tenant = SimpleNamespace(account_id=account.id)
        reparent(session, tenant, "a", None)
        reparent(session, tenant, "b", None)
    yield tenant
    with database.session(write=True) as session:
        accounts_service.delete_account(session, name)


def test_a_second_re_parenting_waits_for_the_first_and_then_sees_the_cycle(engine, committed_tenant):
    tenant = committed_tenant
    first, second = Session(engine), Session(engine)
    try:
        reparent(first, tenant, "a", "b")  # uncommitted: a under b
        second.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError):
            # Without the account lock this would read the tree before the first commit, pass its
            # check, and the two commits together would make a <-> b.
            reparent(second, tenant, "b", "a")
        second.rollback()
        first.commit()
        with pytest.raises(InvalidRequest):
            reparent(second, tenant, "b", "a")
    finally:
        first.close()
        second.rollback()
        second.close()
