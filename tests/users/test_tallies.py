"""The user tallies (migration 0003) stay exact whatever writes users, and walks read them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from enabley import migrate
from enabley.db.engine import make_engine
from enabley.models import SubAccount, SubAccountTally, User, UserSubAccount, UserTally
from tests import factories
from tests.uploads.helpers import ok as upload_ok
from tests.uploads.helpers import to_csv, upload


def _put(client, headers, identifier: str, **fields) -> None:
    r = client.put("/api/v2/users", json={"identifier": identifier, **fields}, headers=headers)
    assert r.status_code in (200, 201), r.text


def _tallies_match(db, account) -> None:
    db.flush()
    tallied = db.scalar(select(func.sum(UserTally.users)).where(UserTally.account_id == account.id)) or 0
    counted = db.scalar(select(func.count()).select_from(User).where(User.account_id == account.id))
    assert tallied == counted
    for (sub_id,) in db.execute(select(SubAccount.id).where(SubAccount.account_id == account.id)):
        tallied = db.scalar(
            select(func.sum(SubAccountTally.users)).where(SubAccountTally.sub_account_id == sub_id)
        )
        counted = db.scalar(
            select(func.count()).select_from(UserSubAccount).where(UserSubAccount.sub_account_id == sub_id)
        )
        assert (tallied or 0) == counted


def _total_pages(client, headers, **params) -> int:
    r = client.get("/api/v3/users", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return int(r.json()["totalPages"])


def test_every_write_path_keeps_the_tallies_exact(client, headers, db, account, page_size):
    page_size(1)
    for i in range(5):
        _put(client, headers, f"u{i}", subAccountName="EU" if i % 2 else None)
    _tallies_match(db, account)
    assert _total_pages(client, headers) == 5
    assert _total_pages(client, headers, subAccountName="EU") == 2

    assert client.delete("/api/v2/users/u0", headers=headers).status_code in (200, 204)
    assert client.delete("/api/v2/users/u1/subAccountName/EU", headers=headers).status_code in (200, 204)
    _put(client, headers, "u2", subAccountName="EU")  # an update that adds a sub-account
    _tallies_match(db, account)
    assert _total_pages(client, headers) == 4
    assert _total_pages(client, headers, subAccountName="EU") == 2

    users = to_csv(
        ["identifier", "email", "subAccountName"],
        *[[f"bulk{i}", f"bulk{i}@example.com", "US"] for i in range(7)],
    )
    upload_ok(upload(client, headers, users=users))
    _tallies_match(db, account)
    assert _total_pages(client, headers) == 11
    assert _total_pages(client, headers, subAccountName="US") == 7


def test_another_accounts_users_are_not_counted(client, headers, db, account, page_size):
    page_size(1)
    other = factories.make_account(db)
    for _ in range(3):
        factories.make_user(db, other)
    _put(client, headers, "mine")
    assert _total_pages(client, headers) == 1
    _tallies_match(db, account)
    _tallies_match(db, other)


def test_a_text_filter_counts_its_matches(client, headers, page_size):
    page_size(1)
    for name in ("Souza", "Silva", "Sato"):
        _put(client, headers, name.lower(), lastName=name)
    assert _total_pages(client, headers, lastNameSubstring="s") == 3
    assert _total_pages(client, headers, lastNameSubstring="sa") == 1


def test_the_migration_counts_the_users_already_there(scratch):
    url = scratch.new()
    config = migrate.alembic_config(url)
    with migrate.locked_connection(url) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            a = factories.make_account(session, "a", ["EU"])
            b = factories.make_account(session, "b")
            eu = session.scalars(select(SubAccount).where(SubAccount.account_id == a.id)).one()
            # Core inserts of the columns they name: an ORM insert would also write (and read
            # back) the columns that later migrations add.
            users = [
                session.execute(
                    insert(User)
                    .values(account_id=owner.id, external_id=factories.unique("user"))
                    .returning(User.id)
                ).scalar_one()
                for owner in (a, a, a, b)
            ]
            session.add_all(UserSubAccount(user_id=user_id, sub_account_id=eu.id) for user_id in users[:3])
            accounts = {"a": a.id, "b": b.id}
        migrate.upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT account_id, sum(users) FROM user_tallies GROUP BY account_id"))
            tallies = {account_id: total for account_id, total in rows}
            assert tallies == {accounts["a"]: 3, accounts["b"]: 1}
            assert conn.execute(text("SELECT sum(users) FROM sub_account_tallies")).scalar_one() == 3
    finally:
        engine.dispose()
