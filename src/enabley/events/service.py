"""Reading the change feed (docs/decisions/0009-change-log.md)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from itertools import islice

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from enabley.db.base import HasAccount, owned
from enabley.errors import Gone, InvalidRequest
from enabley.events import log, stored
from enabley.events.schemas import MAX_TYPE_PATTERNS, TYPE_PATTERN
from enabley.models import Event
from enabley.schemas import format_timestamp


def encode_cursor(position: int, event_id: str) -> str:
    return base64.urlsafe_b64encode(f"{position}:{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        position, event_id = text.split(":", 1)
        return int(position), event_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest(f"Malformed cursor {cursor!r}: pass back a nextCursor as it was given") from None


def type_filter(patterns: Sequence[str]) -> ColumnElement[bool] | None:
    """``types`` as a condition on ``Event.type``; None when every type is wanted."""
    if not patterns:
        return None
    if len(patterns) > MAX_TYPE_PATTERNS:
        raise InvalidRequest(f"At most {MAX_TYPE_PATTERNS} event type patterns")
    exact: list[str] = []
    prefixes: list[str] = []
    for pattern in patterns:
        if not TYPE_PATTERN.fullmatch(pattern):
            raise InvalidRequest(
                f"Invalid event type pattern {pattern!r}: use a type (user.created), "
                "a resource's types (user.*) or *"
            )
        if pattern == "*":
            return None
        if pattern.endswith(".*") or "." not in pattern:
            prefixes.append(pattern.removesuffix(".*") + ".")
        else:
            exact.append(pattern)
    # The patterns hold letters, underscores and dots only: none of LIKE's wildcards but "_".
    conditions: list[ColumnElement[bool]] = [Event.type.in_(exact)] if exact else []
    conditions += [Event.type.startswith(prefix, autoescape=True) for prefix in prefixes]
    return or_(*conditions)


def read_feed(
    session: Session, tenant: HasAccount, after: str | None, types: Sequence[str], limit: int
) -> bytes:
    """The tenant's events after ``after``, in position order, as ``EventPage``'s JSON. Numbers the
    events committed since the last read first, so that the page holds every event visible when it
    was read.

    Written out here rather than through ``EventPage``: each event's ``data`` is stored as JSON and
    goes out as it is, where parsing and validating it again cost three quarters of a page's time
    (bench/README.md)."""
    condition = type_filter(types)
    start = 0
    if after:
        start, event_id = decode_cursor(after)
        holding = (
            owned(Event, tenant)
            .with_only_columns(Event.event_id, Event.span, Event.position)
            .where(Event.position >= start)
            .order_by(Event.position)
            .limit(1)
        )
        row = session.execute(holding).first()
        if row is None or stored.id_at(row.event_id, row.span, row.position, start) != event_id:
            raise Gone(
                "The cursor is older than the events kept (ENABLEY_EVENT_RETENTION_DAYS) or is not "
                "this account's: resync (read the objects you follow again), then read the feed "
                "from a new cursor"
            )
    # Only the caller's own events: a read changes nothing of another account.
    waiting = owned(Event, tenant).with_only_columns(Event.id).where(Event.position.is_(None)).limit(1)
    if session.scalar(waiting) is not None:
        log.number_waiting(session.connection(), account_id=tenant.account_id)
    stmt = owned(Event, tenant).where(Event.position > start)
    if condition is not None:
        stmt = stmt.where(condition)
    rows = stored.read_rows(session.connection(), stmt, start, limit)
    # A bulk write's events share one time: each time is formatted once. A cursor (base64url)
    # holds no character JSON escapes.
    stamps: dict[datetime, str] = {}
    page = list(islice(stored.events(rows, start), limit))
    items = ",".join(stored.as_json(event, _stamp(stamps, event.occurred_at)) for event in page)
    next_cursor = encode_cursor(page[-1].position, page[-1].event_id) if page else after or None
    cursor_json = "null" if next_cursor is None else f'"{next_cursor}"'
    return f'{{"items":[{items}],"nextCursor":{cursor_json}}}'.encode()


def _stamp(stamps: dict[datetime, str], at: datetime) -> str:
    return stamps.get(at) or stamps.setdefault(at, format_timestamp(at))
