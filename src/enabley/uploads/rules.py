"""Pure upload rules: list cells, error wording, cycles and the order groups are created in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

LIST_SEPARATOR = ";"


def split_list(cell: str) -> list[str]:
    """A list cell: items separated by ';', trimmed, empty items dropped, each item once."""
    items: list[str] = []
    for item in cell.split(LIST_SEPARATOR):
        item = item.strip()
        if item and item not in items:
            items.append(item)
    return items


def describe_error(error: Mapping[str, Any]) -> str:
    """A Pydantic error of one cell, as a message naming the list item at fault."""
    loc = error.get("loc", ())
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if len(loc) > 1 and isinstance(loc[1], int):
        return f"item {loc[1] + 1} ({error.get('input')!r}): {message}"
    return message


def cycles(parents: Mapping[str, str | None], outside: Mapping[str, str | None]) -> dict[str, list[str]]:
    """The groups of ``parents`` that would be their own ancestors, each with its cycle.

    ``parents``: each uploaded group's parent after the upload; ``outside``: the stored parent of
    groups the upload leaves alone (those not listed count as roots). The stored tree has no
    cycle, so every cycle runs through uploaded groups.
    """
    done: set[str] = set()
    found: dict[str, list[str]] = {}
    for start in parents:
        path: list[str] = []
        on_path: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done and node not in on_path:
            on_path[node] = len(path)
            path.append(node)
            node = parents[node] if node in parents else outside.get(node)
        if node is not None and node in on_path:
            cycle = path[on_path[node] :]
            for member in cycle:
                if member in parents:
                    found[member] = [*cycle[cycle.index(member) :], *cycle[: cycle.index(member)], member]
        done.update(path)
    return found


def creation_levels(new_parents: Mapping[str, str | None]) -> list[list[str]]:
    """New groups in batches, parents first: a group comes after the batch of its new parent.

    ``new_parents`` maps each new group to its parent (new, existing or none); it has no cycle.
    """
    depth: dict[str, int] = {}
    for start in new_parents:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node in new_parents and node not in depth:
            chain.append(node)
            node = new_parents[node]
        level = depth[node] + 1 if node is not None and node in depth else 0
        for member in reversed(chain):
            depth[member] = level
            level += 1
    levels: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for group, level in depth.items():
        levels[level].append(group)
    return levels
