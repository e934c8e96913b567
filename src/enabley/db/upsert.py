"""Insert a row, or find the one a concurrent request inserted first.

Two requests creating the same identifier at once both look, find nothing, and both insert: the
unique key lets one in. The other must not fail, nor answer "created": its create becomes an
update of the row that won. Every create-or-update goes through ``insert_or_find``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enabley.db.engine import is_unique_violation
from enabley.errors import ServiceUnavailable

T = TypeVar("T")


def insert_or_find(insert: Callable[[], T | None], find: Callable[[], T | None]) -> tuple[T, bool]:
    """``(row, created)``: the row ``insert()`` inserted, or, when a concurrent request took its
    key first (``insert`` answers None), the row ``find()`` finds then.

    On PostgreSQL the losing insert waits for the winner's commit, so the row is there to find;
    it is looked for once. Gone again by then (deleted meanwhile), the request is refused with a
    503 to retry, rather than tried again without end.
    """
    inserted = insert()
    if inserted is not None:
        return inserted, True
    found = find()
    if found is None:
        raise ServiceUnavailable(
            "A concurrent request created and removed this record while it was written; retry",
            headers={"Retry-After": "1"},
        )
    return found, False


def add(session: Session, row: T) -> T | None:
    """``row`` added and flushed in a savepoint; None when one of its unique keys is taken (the
    savepoint's rollback keeps the rest of the unit of work). Other integrity errors raise."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        return None
    return row
