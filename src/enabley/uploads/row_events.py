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
from functools import cache, lru_cache
from typing import Any

from pydantic.alias_generators import to_camel
from pydantic_core import to_json

Encoded = tuple[str, str]
"""An event's type and its data as JSON text."""


@cache
def _wire(columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(to_camel(column) for column in columns)


def user_event(
    type: str,
    identifier: str,
    fields: Mapping[str, Any],
    stamps: Mapping[str, str],
    sub_account_names: Sequence[str] | None,
) -> Encoded:
    """A user's event: ``fields`` by column name, ``stamps`` the formatted created/modified."""
    data: dict[str, Any] = {"identifier": identifier}
    data.update(zip(_wire(tuple(fields)), fields.values(), strict=True))
    data.update(stamps)
    if sub_account_names is not None:
        data["userSubAccountNames"] = list(sub_account_names)
    return type, to_json(data).decode()


def memberships(type: str, user: str, groups: Iterable[str]) -> list[Encoded]:
    """One event a group: the user's identifier encoded once, each group's once per upload (the
    same JSON as encoding each event's dictionary, in a third of the time)."""
    encoded = to_json(user).decode()
    return [(type, f'{{"groupIdentifier":{_json(group)},"userIdentifier":{encoded}}}') for group in groups]


@lru_cache(maxsize=4096)
def _json(value: str) -> str:
    return to_json(value).decode()
