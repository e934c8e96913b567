"""Deleting an account removes every row it owns, in every table, and nothing of any other account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import PrimaryKeyConstraint, Table, UniqueConstraint, select
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.db.base import Base
from tests import factories

GLOBAL_TABLES = {"server_secrets", "signing_keys", "webhook_fanout"}
"""The server's own rows, which belong to no account (the fan-out's place in the change log is
the server's, across accounts)."""

UNIQUE_OR_PRIMARY = (UniqueConstraint, PrimaryKeyConstraint)


def snapshot(db: Session) -> dict[str, dict[tuple[Any, ...], tuple[int | None, tuple[Any, ...]]]]:
    """Every row of every table: primary key -> (the account owning the row, the row).

    A row is owned by its ``account_id``, otherwise by the owner of a row it references; the
    server's own rows are owned by no account (None)."""
    rows: dict[str, dict[tuple[Any, ...], tuple[int | None, tuple[Any, ...]]]] = {}
    referenced = {(key.column.table.name, key.column.name) for key in _foreign_keys()}
    owner_by_key: dict[tuple[str, str], dict[Any, int | None]] = {key: {} for key in referenced}
    for table in Base.metadata.sorted_tables:  # parents first
        found = rows[table.name] = {}
        for row in db.execute(select(table)).mappings():
            owner = _owner(table, row, owner_by_key)
            found[tuple(row[c.name] for c in table.primary_key.columns)] = (owner, tuple(row.values()))
            for column in table.columns:
                if (table.name, column.name) in referenced:
                    owner_by_key[table.name, column.name][row[column.name]] = owner
    return rows


def _foreign_keys() -> list[Any]:
    return [key for table in Base.metadata.sorted_tables for key in table.foreign_keys]


def _owner(table: Table, row: Any, owner_by_key: dict[tuple[str, str], dict[Any, int | None]]) -> int | None:
    if table.name == "accounts":
        return int(row["id"])
    if "account_id" in table.columns:
        return int(row["account_id"])
    for key in table.foreign_keys:
        value = row[key.parent.name]
        if value is not None:
            owner = owner_by_key.get((key.column.table.name, key.column.name), {}).get(value)
            if owner is not None:
                return owner
    return None


def tables_without_rows_of(before: dict[str, Any], account_id: int) -> list[str]:
    return sorted(
        name
        for name, found in before.items()
        if name not in GLOBAL_TABLES and not any(owner == account_id for owner, _row in found.values())
    )


def test_the_filled_account_holds_rows_in_every_table(db):
    """A table added to the models and not to ``fill`` fails here, so deletion is tested on it too."""
    account = factories.make_account(db, sub_accounts=["EU"])
    factories.fill_account(db, account)
    before = snapshot(db)
    assert set(before) == set(Base.metadata.tables)
    assert tables_without_rows_of(before, account.id) == []


def test_deleting_an_account_removes_every_row_it_owns_and_no_other(db, client, auth):
    doomed = factories.make_account(db, sub_accounts=["EU"])
    kept = factories.make_account(db, sub_accounts=["EU"])
    for account in (doomed, kept):
        factories.fill_account(db, account)
    doomed_headers, kept_headers = auth(doomed), auth(kept)
    assert client.get("/api/v2/users/ana", headers=doomed_headers).status_code == 200
    before = snapshot(db)
    assert tables_without_rows_of(before, doomed.id) == tables_without_rows_of(before, kept.id) == []

    accounts_service.delete_account(db, doomed.name)

    after = snapshot(db)
    expected = {
        name: {key: value for key, value in found.items() if value[0] != doomed.id}
        for name, found in before.items()
    }
    assert after == expected
    # Its tokens answer 401 on the next call; the other account's keep working.
    response = client.get("/api/v2/users/ana", headers=doomed_headers)
    assert (response.status_code, response.json()["error"]) == (401, "access_denied")
    assert client.get("/api/v2/users/ana", headers=kept_headers).status_code == 200


def test_an_account_is_deleted_by_one_statement_that_the_database_cascades(db, engine):
    """However many rows it owns: the account's DELETE cascades to every table but the change
    log, which has no foreign key (decision 0013); one more DELETE, after it, takes its events."""
    account = factories.make_account(db, sub_accounts=["EU"])
    factories.fill_account(db, account)
    with factories.counted_statements(engine) as seen:
        accounts_service.delete_account(db, account.name)
    deletes = [statement for statement in seen if statement.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 2, seen
    assert deletes[0].startswith("DELETE FROM accounts") and deletes[1].startswith("DELETE FROM events"), seen


def test_every_foreign_key_is_served_by_an_index():
    """A cascade from a deleted row finds the rows referencing it through an index: without one,
    each deleted parent scans the whole child table (an account's items times all progress)."""
    unserved = []
    for table in Base.metadata.sorted_tables:
        keyed = [*table.indexes, *(c for c in table.constraints if isinstance(c, UNIQUE_OR_PRIMARY))]
        leading = [[column.name for column in key.columns] for key in keyed]
        for key in table.foreign_key_constraints:
            columns = [c.name for c in key.columns]
            if not any(found[: len(columns)] == columns for found in leading):
                unserved.append(f"{table.name}({', '.join(columns)})")
    assert sorted(unserved) == []
