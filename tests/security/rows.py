"""What the database holds for one account, read generically from ``enabley.models``.

``account_rows`` dumps every row of every table reachable from an account: the tables with an
``account_id`` column by that column, then, until nothing more is reached, every row of the other
tables that refers to a row already reached (memberships, progress, certificate courses, ...).
``rows_spanning_accounts`` finds rows that tie objects of two accounts together.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import Connection, Table, func, or_, select

import enabley.models  # noqa: F401  (registers every table)
from enabley.db.base import Base
from enabley.models import Channel, Entitlement, Group, Workspace

# Tables that belong to the server rather than to an account.
SERVER_TABLES = {"signing_keys", "server_secrets", "webhook_fanout"}


def _key(row: Any) -> tuple[Any, ...]:
    return tuple(row)


def account_rows(conn: Connection, account_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row reachable from the account, table by table, in a stable order."""
    tables = [t for t in Base.metadata.sorted_tables if t.name not in SERVER_TABLES]
    reached: dict[str, list[Any]] = {}
    accounts = Base.metadata.tables["accounts"]
    reached["accounts"] = list(conn.execute(select(accounts).where(accounts.c.id == account_id)))
    for table in tables:
        if "account_id" in table.c:
            reached[table.name] = list(conn.execute(select(table).where(table.c.account_id == account_id)))
    progress = True
    while progress:
        progress = False
        for table in tables:
            if table.name in reached:
                continue
            links = [fk for fk in table.foreign_keys if fk.column.table.name in reached]
            if not links:
                continue
            conditions = []
            for fk in links:
                parent = fk.column.table
                values = [row._mapping[fk.column.name] for row in reached[parent.name]]
                conditions.append(fk.parent.in_(values))
            reached[table.name] = list(conn.execute(select(table).where(or_(*conditions))))
            progress = True
    unreached = sorted({t.name for t in tables} - set(reached))
    assert not unreached, (
        f"tables no account reaches (add them to SERVER_TABLES if they are the server's): {unreached}"
    )
    return {name: sorted((_key(r) for r in rows), key=repr) for name, rows in sorted(reached.items())}


def _account_of(table: Table) -> bool:
    return table.name == "accounts" or "account_id" in table.c


def rows_spanning_accounts(conn: Connection) -> list[str]:
    """Rows whose own account and the accounts of the rows they refer to are not all the same."""
    found: list[str] = []
    for table in Base.metadata.sorted_tables:
        accounts: list[Any] = [table.c.account_id] if "account_id" in table.c else []
        joined: Any = table
        for n, fk in enumerate(sorted(table.foreign_keys, key=lambda fk: fk.parent.name)):
            parent = fk.column.table
            if parent.name == "accounts" or not _account_of(parent):
                continue
            alias = parent.alias(f"ref{n}")
            joined = joined.outerjoin(alias, fk.parent == alias.c[fk.column.name])
            accounts.append(alias.c.account_id)
        if len(accounts) < 2:
            continue
        differ = or_(*(a != b for a, b in itertools.combinations(accounts, 2)))
        count = conn.execute(select(func.count()).select_from(joined).where(differ)).scalar_one()
        if count:
            found.append(f"{table.name}: {count} row(s) refer to another account's objects")
    entitlements = Entitlement.__table__
    for entity_type, model in (("COURSE", Channel), ("GROUP", Group), ("WORKSPACE", Workspace)):
        target = model.__table__
        count = conn.execute(
            select(func.count())
            .select_from(entitlements.join(target, target.c.id == entitlements.c.entity_id))
            .where(
                entitlements.c.entity_type == entity_type, target.c.account_id != entitlements.c.account_id
            )
        ).scalar_one()
        if count:
            found.append(f"entitlements: {count} {entity_type} role(s) on another account's objects")
    return found
