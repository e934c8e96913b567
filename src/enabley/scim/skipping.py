"""A cheap skip to any startIndex of an account's users, in id order (SCIM's offset paging).

An offset costs a walk of the index up to it: 80 ms to the middle of a million users on SQLite,
170 ms to the end. Every ``STRIDE``-th id of the account, found in one walk, lets a page start at
the anchor before its offset and walk less than ``STRIDE`` entries from there.

Anchors are kept per process and checked against the database on every use, never trusted:
ids only grow (AUTOINCREMENT, sequences), so users created since leave every anchor where it was,
and the anchors still hold exactly when the users up to the last anchor are as many as when they
were found: the account's tally (kept by the database) less the users created since. A deletion
breaks that, and the anchors are found again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enabley.models import User

STRIDE = 10_000
MAX_ACCOUNTS = 1_000


@dataclass(frozen=True, slots=True)
class Anchors:
    ids: tuple[int, ...]
    """The id at position 0, STRIDE, 2 * STRIDE, ... of the account's users in id order."""
    total: int
    """The account's users when they were found."""
    last_id: int
    """The account's largest user id then."""


_ANCHORS: LRUCache[int, Anchors] = LRUCache(MAX_ACCOUNTS)
_LOCK = threading.Lock()


def _find(session: Session, account_id: int, total: int) -> Anchors:
    numbered = (
        select(User.id, func.row_number().over(order_by=User.id).label("position"))
        .where(User.account_id == account_id)
        .subquery()
    )
    ids = tuple(
        session.scalars(
            select(numbered.c.id).where((numbered.c.position - 1) % STRIDE == 0).order_by(numbered.c.id)
        )
    )
    last = session.scalar(select(func.max(User.id)).where(User.account_id == account_id)) or 0
    return Anchors(ids, total, last)


def _still_hold(session: Session, account_id: int, anchors: Anchors, total: int) -> bool:
    created = session.scalar(
        select(func.count()).where(User.account_id == account_id, User.id > anchors.last_id)
    )
    return total - int(created or 0) == anchors.total


def users_skip(account_id: int) -> Callable[[Session, int, int], tuple[Any, int]]:
    """``skip(session, offset, total)``: the id to start from (None: the first) and the offset
    left to walk from it, for the account's users in id order (``total``: its tally now)."""

    def skip(session: Session, offset: int, total: int) -> tuple[Any, int]:
        if offset < STRIDE:
            return None, offset
        with _LOCK:
            anchors = _ANCHORS.get(account_id)
        if anchors is None or not _still_hold(session, account_id, anchors, total):
            anchors = _find(session, account_id, total)
            with _LOCK:
                _ANCHORS[account_id] = anchors
        index = min(offset // STRIDE, len(anchors.ids) - 1)
        if index <= 0:
            return None, offset
        return anchors.ids[index], offset - index * STRIDE

    return skip
