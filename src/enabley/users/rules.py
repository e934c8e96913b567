"""Pure user rules: which stored values a ``UserData`` sets, and the defaults of a new user."""

from __future__ import annotations

from typing import Any

from enabley.schemas import UserRole
from enabley.users.schemas import UserData

_COPIED = ("address", "custom_attributes", "email", "first_name", "last_name", "phone", "username")

SEARCH_KEYS = {
    "username": "username_key",
    "email": "email_key",
    "first_name": "first_name_key",
    "last_name": "last_name_key",
}
"""Field -> its case-folded copy (usernames are unique, and the filters match, whatever the case)."""


def new_user_defaults() -> dict[str, Any]:
    """What a user created without those fields gets."""
    return {"is_active": True, "possible_roles": [UserRole.LEARNER.value]}


def user_values(data: UserData, *, creating: bool) -> dict[str, Any]:
    """The stored values ``data`` sets: the fields it carries; a null list of roles keeps the roles."""
    given = data.model_fields_set
    values: dict[str, Any] = {field: getattr(data, field) for field in _COPIED if field in given}
    if "is_active" in given or creating:
        values["is_active"] = data.is_active
    if data.possible_roles is not None:
        # Deduplicated by value: hashing the enum members themselves is slow (bulk uploads).
        values["possible_roles"] = list(dict.fromkeys([r.value for r in data.possible_roles]))
    return values


def search_key(value: str | None) -> str | None:
    return value.casefold() if value else None
