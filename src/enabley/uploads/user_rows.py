"""A users.csv row as the stored values it sets, the way ``UserData`` and ``users.rules`` make them.

Building and validating a ``UserData`` costs more than everything else an upload does with a row
(bench/README.md), and an organisation's rows are nearly all plain: names within their lengths,
ordinary addresses, ``true``/``false``, known roles. ``FastRows`` turns such a row into the same
values without a model, and declines (answers None) any row it is not sure of; that row then goes
through ``UserData``, which also words the problems. So a row is accepted, refused and stored
exactly as *Create or update User* would do it, the shortcut only being quicker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import TypeAdapter, ValidationError

from enabley.models.lengths import TEXT_LENGTH
from enabley.schemas import UserRole
from enabley.uploads import rules
from enabley.users import rules as user_rules
from enabley.users.schemas import Email, UserData

_NAMES = {"firstName": 255, "lastName": 255, "phone": 255, "address": 2000, "subAccountName": 255}
"""Columns taken as they are (an empty cell is null), with the longest value ``UserData`` takes."""
_FIELDS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "phone": "phone",
    "address": "address",
    "email": "email",
    "username": "username",
}
_MAX_USERNAME = 255
_MAX_ROLES = 20
_ROLES = frozenset(role.value for role in UserRole)
_BOOLEANS = {"true": True, "false": False}
_EMAIL: TypeAdapter[str | None] = TypeAdapter(Email)
_UNSURE = object()


class Row(NamedTuple):
    """A users.csv row as the stored values it sets."""

    identifier: str
    values: dict[str, Any]
    sub_account_name: str | None


class RowReader:
    """The rows of one file, given where its columns are."""

    def __init__(self, columns: Mapping[str, int]) -> None:
        self.body_columns = [
            (c, i) for c, i in columns.items() if c not in ("groups", "profiles", "isActive", "possibleRoles")
        ]
        self.identifier = columns["identifier"]
        self.plain = [
            (_FIELDS.get(column), index, limit)
            for column, limit in _NAMES.items()
            if (index := columns.get(column)) is not None
        ]
        self.sub = columns.get("subAccountName")
        self.email = columns.get("email")
        self.username = columns.get("username")
        self.active = columns.get("isActive")
        self.roles = columns.get("possibleRoles")
        self._roles: dict[str, Any] = {}

    def read(self, cells: list[str]) -> Row:
        """The row's values; ``ValidationError`` when ``UserData`` refuses it."""
        row = self.fast(cells)
        if row is None:
            data = UserData.model_validate(self.body(cells))
            row = Row(data.identifier, user_rules.user_values(data, creating=False), data.sub_account_name)
        return row

    def body(self, cells: list[str]) -> dict[str, Any]:
        """The row as the JSON body of *Create or update User*: an empty cell is null, except an
        empty isActive, which is left out (true for a new user, unchanged otherwise)."""
        body: dict[str, Any] = {column: cells[index] or None for column, index in self.body_columns}
        if self.active is not None and cells[self.active]:
            body["isActive"] = cells[self.active]
        if self.roles is not None:
            roles = cells[self.roles]
            body["possibleRoles"] = rules.split_list(roles) if roles else None
        return body

    def fast(self, cells: list[str]) -> Row | None:
        """The row's values without ``UserData``, or None when not sure of them."""
        identifier = cells[self.identifier]
        if not 0 < len(identifier) <= TEXT_LENGTH:
            return None
        values: dict[str, Any] = {}
        for field, index, limit in self.plain:
            cell = cells[index]
            if len(cell) > limit:
                return None
            if field is not None:
                values[field] = cell or None
        if self.email is not None:
            cell = cells[self.email]
            if not cell.strip():
                values["email"] = None
            else:
                try:
                    values["email"] = _EMAIL.validate_python(cell)
                except ValidationError:
                    return None
        if self.username is not None:
            cell = cells[self.username]
            if len(cell) > _MAX_USERNAME:
                return None
            values["username"] = cell if cell.strip() else None
        if self.active is not None and (cell := cells[self.active]):
            active = _BOOLEANS.get(cell)
            if active is None:
                return None
            values["is_active"] = active
        if self.roles is not None and (cell := cells[self.roles]):
            roles = self._roles.get(cell)
            if roles is None:
                roles = self._roles[cell] = _roles(cell)
            if roles is _UNSURE:
                return None
            values["possible_roles"] = list(roles)
        sub = cells[self.sub] or None if self.sub is not None else None
        return Row(identifier, values, sub)


def _roles(cell: str) -> Any:
    items = rules.split_list(cell)
    if len(items) > _MAX_ROLES or not all(item in _ROLES for item in items):
        return _UNSURE
    return tuple(items)
