"""The events of the rows a bulk upload writes: built while a chunk is planned, written with it
(``events.log.emit_many``), so the upload's users and memberships appear in the change feed as
the same changes made one by one would. Each event's data is encoded to JSON text here, while
planning: a plan kept until the files are checked (SQLite) then carries one string an event
rather than a dictionary to marshal and load again.

``data`` holds the user's fields the upload manages, under the integration API's names, as the
upload wrote them (the file's columns over what was stored); building the full ``UserInfo`` of
every row would read back each user and cost more than the upload's 15 % budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from pydantic.alias_generators import to_camel
from pydantic_core import to_json

Encoded = tuple[str, str]
"""An event's type and its data as JSON text."""


@cache
def _wire(column: str) -> str:
    return to_camel(column)


def user_event(
    type: str,
    identifier: str,
    fields: Mapping[str, Any],
    stamps: Mapping[str, str],
    sub_account_names: Sequence[str] | None,
) -> Encoded:
    """A user's event: ``fields`` by column name, ``stamps`` the formatted created/modified."""
    data: dict[str, Any] = {"identifier": identifier}
    for column, value in fields.items():
        data[_wire(column)] = value
    data.update(stamps)
    if sub_account_names is not None:
        data["userSubAccountNames"] = list(sub_account_names)
    return type, to_json(data).decode()


def memberships(type: str, user: str, groups: Iterable[str]) -> list[Encoded]:
    return [(type, to_json({"groupIdentifier": group, "userIdentifier": user}).decode()) for group in groups]
