"""Pure group rules: hierarchy types, cycles and what an update changes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any


def type_allowed(group_type: str | None, hierarchy: Collection[str]) -> bool:
    """With a hierarchy, a typed group's type must be one of it; without one any type goes."""
    return group_type is None or not hierarchy or group_type in hierarchy


def type_refusal(group_type: str | None, hierarchy: Sequence[str]) -> str | None:
    """Why ``group_type`` can't be given to a group of this hierarchy; None when it can."""
    if type_allowed(group_type, hierarchy):
        return None
    return f"Group type {group_type!r} is not in the account's hierarchy ({', '.join(map(repr, hierarchy))})"


def makes_cycle(group_id: int | None, new_parent_id: int | None, parent_chain: Collection[int]) -> bool:
    """Would hanging ``group_id`` under ``new_parent_id`` make it its own ancestor?

    ``parent_chain`` holds the new parent and all of its ancestors. A group not created yet has no
    descendants, so it can't close a cycle.
    """
    if group_id is None or new_parent_id is None:
        return False
    return group_id == new_parent_id or group_id in parent_chain


def changes(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``wanted`` whose value differs from ``current``."""
    return {key: value for key, value in wanted.items() if current.get(key) != value}
