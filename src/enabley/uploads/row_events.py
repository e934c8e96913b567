"""The events of the rows a bulk upload writes: gathered while a chunk is planned, written with it
(``events.log.emit_encoded``), so the upload's users and memberships appear in the change feed as
the same changes made one by one would.

A chunk's events are gathered as tables, one by type (and shape), each written as one row of
the change log, a bundle (``events.stored``, decision 0016): the new users' and their groups'
are made at once from the columns the chunk inserts, an updated user's gathered as he is
planned; a chunk's tables are encoded to JSON once, when the chunk is planned (a plan kept until
the files are checked, on SQLite, then carries one string a table).

``data`` holds the user's fields the upload manages, under the integration API's names, as the
upload wrote them (the file's columns over what was stored); building the full ``UserInfo`` of
every row would read back each user and cost more than the upload's 15 % budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from pydantic.alias_generators import to_camel

from enabley.events import stored

MEMBERSHIP_KEYS = ("groupIdentifier", "userIdentifier")
SUB_ACCOUNTS = "userSubAccountNames"


ORDER = ("user.created", "user.updated", "group.member_added", "group.member_removed")
"""The order of a chunk's tables: every user's own event before any membership, so that a
consumer replaying them one by one meets a new user before his groups."""


class Events:
    """A chunk's events: tables by type and shape, written in ``ORDER`` (in the order made or
    first met within a type). A chunk's events are written in one transaction, with its rows."""

    def __init__(self) -> None:
        self.tables: list[stored.Table] = []
        self.rows: dict[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], list[Sequence[Any]]] = {}

    def add(self, table: stored.Table) -> None:
        if len(table):
            self.tables.append(table)

    def row(self, type: str, keys: tuple[str, ...], common: Mapping[str, str], values: Sequence[Any]) -> None:
        """One more event of ``type`` with ``keys`` and ``common`` (an upload's stamps)."""
        self.rows.setdefault((type, keys, tuple(common.items())), []).append(values)

    def encoded(self) -> list[stored.Encoded]:
        """The rows to write, each table's JSON encoded at once."""
        gathered = [
            stored.Table.of_rows(type, keys, rows, dict(common))
            for (type, keys, common), rows in self.rows.items()
        ]
        tables = sorted([*self.tables, *gathered], key=lambda table: ORDER.index(table.type))
        return [row for table in tables for row in stored.encode(table)]


@cache
def _user_keys(columns: tuple[str, ...], with_sub_accounts: bool) -> tuple[str, ...]:
    keys = ("identifier", *(to_camel(column) for column in columns))
    return (*keys, SUB_ACCOUNTS) if with_sub_accounts else keys


def created_users(
    events: Events,
    identifiers: Sequence[str],
    columns: tuple[str, ...],
    values: Sequence[Sequence[Any]],
    sub_account_names: Sequence[Sequence[str]],
    stamps: Mapping[str, str],
) -> None:
    """The ``user.created`` of new users: their identifiers, then a column of values a column of
    ``columns`` (by column name), and of their sub-accounts' names; ``stamps`` the formatted
    created/modified."""
    keys = _user_keys(columns, True)
    events.add(stored.Table("user.created", keys, [identifiers, *values, sub_account_names], dict(stamps)))


def user_event(
    events: Events,
    type: str,
    identifier: str,
    columns: tuple[str, ...],
    values: Sequence[Any],
    stamps: Mapping[str, str],
    sub_account_names: Sequence[str] | None,
) -> None:
    """A user's event: ``values`` of ``columns`` (by column name), ``stamps`` the formatted
    created/modified, the sub-accounts' names when the upload manages them."""
    keys = _user_keys(columns, sub_account_names is not None)
    row = [identifier, *values]
    if sub_account_names is not None:
        row.append(list(sub_account_names))
    events.row(type, keys, stamps, row)


def joined_groups(events: Events, groups: Sequence[str], users: Sequence[str]) -> None:
    """``group.member_added`` of each user joining the group beside him."""
    events.add(stored.Table("group.member_added", MEMBERSHIP_KEYS, [groups, users], {}))


def memberships(events: Events, type: str, user: str, groups: Iterable[str]) -> None:
    """One event a group the user joined or left."""
    for group in groups:
        events.row(type, MEMBERSHIP_KEYS, {}, (group, user))
