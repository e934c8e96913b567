"""No internal id is ever given to a second row: links, pagination keys and caches that were
issued for a row can never come to name another."""

from __future__ import annotations

from sqlalchemy import Integer, func, select

from enabley.accounts import service as accounts_service
from enabley.db.base import Base
from tests import factories

GENERATED_IDS = sorted(
    table.name
    for table in Base.metadata.sorted_tables
    if [column.name for column in table.primary_key.columns] == ["id"]
    and isinstance(table.c.id.type, Integer)
)


def ids_of(db, account_id: int, aggregate) -> dict[str, int]:
    """Per table, ``aggregate`` (min or max) of the ids of the account's rows."""
    found = {}
    for name in GENERATED_IDS:
        table = Base.metadata.tables[name]
        query = select(aggregate(table.c.id))
        if name == "accounts":
            query = query.where(table.c.id == account_id)
        elif "account_id" in table.c:
            query = query.where(table.c.account_id == account_id)
        else:  # owned through the row it belongs to (a console session through its user)
            key = next(k for k in table.foreign_keys if "account_id" in k.column.table.c)
            parent = key.column.table
            query = query.join(parent, key.parent == key.column).where(parent.c.account_id == account_id)
        found[name] = db.scalar(query)
    return found


def test_rows_made_after_a_deletion_never_get_a_deleted_rows_id(db):
    assert {"accounts", "users", "certificates", "channels", "api_clients"} <= set(GENERATED_IDS)
    account = factories.make_account(db, "acme", sub_accounts=["EU"])
    factories.fill_account(db, account)
    deleted = ids_of(db, account.id, func.max)
    accounts_service.delete_account(db, "acme")
    again = factories.make_account(db, "acme", sub_accounts=["EU"])
    factories.fill_account(db, again)
    made = ids_of(db, again.id, func.min)
    assert None not in deleted.values() and None not in made.values()
    reused = {name: (made[name], deleted[name]) for name in GENERATED_IDS if made[name] <= deleted[name]}
    assert reused == {}
