"""The events of the rows a bulk upload writes: gathered while a chunk is planned, written with it
(``events.log.emit_encoded``), so the upload's users and memberships appear in the change feed as
the same changes made one by one would.

A chunk's events are gathered as tables, one by type (and shape), each written as one row of
the change log, a bundle (``events.stored``, decision 0016): a user's event is a row of values,
a membership a pair, and a chunk's table is encoded to JSON once, when the chunk is planned (a
plan kept until the files are checked, on SQLite, then carries one string a table).

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
    """A chunk's events: a table by type and shape, written in ``ORDER`` (in the order first met
    within a type). A chunk's events are written in one transaction, with its rows."""

    def __init__(self) -> None:
        self.tables: dict[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], stored.Table] = {}

    def table(self, type: str, keys: tuple[str, ...], common: Mapping[str, str]) -> stored.Table:
        """The table of events of ``type`` with ``keys`` and ``common`` (an upload's stamps)."""
        shape = (type, keys, tuple(common.items()))
        found = self.tables.get(shape)
        if found is None:
            found = self.tables[shape] = stored.Table(type, keys, [], dict(common))
        return found

    def encoded(self) -> list[stored.Encoded]:
        """The rows to write, each table's JSON encoded at once."""
        tables = sorted(self.tables.values(), key=lambda table: ORDER.index(table.type))
        return [row for table in tables for row in stored.encode(table)]


@cache
def _user_keys(columns: tuple[str, ...], with_sub_accounts: bool) -> tuple[str, ...]:
    keys = ("identifier", *(to_camel(column) for column in columns))
    return (*keys, SUB_ACCOUNTS) if with_sub_accounts else keys


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
    events.table(type, keys, stamps).rows.append(row)


def memberships(events: Events, type: str, user: str, groups: Iterable[str]) -> None:
    """One event a group the user joined or left."""
    rows = [[group, user] for group in groups]
    if rows:
        events.table(type, MEMBERSHIP_KEYS, {}).rows.extend(rows)
