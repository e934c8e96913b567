"""The change log turned into deliveries: each numbered event, once, for every endpoint that wants
it. A bundle (``events.stored``) is read whole and gives a delivery for each of its events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from enabley.events import stored
from enabley.models import Event
from enabley.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookFanout
from enabley.schemas import format_timestamp
from enabley.webhooks import rules
from enabley.webhooks.service import delivery_row

BATCH = 1000
CURSOR = "events"


def fan_out(session: Session, now: datetime, batch: int = BATCH) -> int:
    """Deliveries for the events of the rows numbered after the cursor, up to ``batch`` events
    (whole rows); answers how many events. Only the rows an endpoint wants are read whole: the
    events of an account without webhooks cost an index read.

    The cursor's row is locked for the transaction: workers take turns, and one that finds it
    locked leaves the work to the one holding it rather than wait."""
    cursor = session.scalar(
        select(WebhookFanout).where(WebhookFanout.name == CURSOR).with_for_update(skip_locked=True)
    )
    if cursor is None:
        return 0
    connection = session.connection()
    heads = connection.execute(
        select(Event.id, Event.position, Event.span, Event.account_id, Event.type)
        .where(Event.position > cursor.position)
        .order_by(Event.position)
        .limit(batch)
    ).all()
    if not heads:
        return 0
    heads = heads[: stored.rows_holding(heads, cursor.position, batch)]
    endpoints = enabled_endpoints(session, {head.account_id for head in heads})
    wanted = [head.id for head in heads if _wanting(endpoints, head)]
    if wanted:
        rows = connection.execute(
            select(*stored.ROW_COLUMNS).where(Event.id.in_(wanted)).order_by(Event.position)
        ).all()
        insert_deliveries(session, deliveries_for(rows, now, endpoints))
    cursor.position = heads[-1].position
    session.flush()
    return sum(head.span for head in heads)


def enabled_endpoints(session: Session, accounts: Iterable[int]) -> dict[int, list[Any]]:
    """The enabled endpoints of ``accounts``, by account."""
    found = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.account_id, WebhookEndpoint.event_types).where(
            WebhookEndpoint.account_id.in_(list(accounts)), WebhookEndpoint.enabled.is_(True)
        )
    )
    by_account: dict[int, list[Any]] = defaultdict(list)
    for endpoint in found:
        by_account[endpoint.account_id].append(endpoint)
    return by_account


def _wanting(endpoints: Mapping[int, list[Any]], row: Any) -> list[Any]:
    """The endpoints (by account) that want the events of ``row``: its account's, matching its type."""
    return [e for e in endpoints.get(row.account_id, ()) if rules.matches(e.event_types, row.type)]


def deliveries_for(
    rows: Sequence[Any], now: datetime, endpoints: Mapping[int, list[Any]]
) -> list[dict[str, Any]]:
    """The deliveries owed for the events of ``rows`` (``stored.ROW_COLUMNS``): to each of
    ``endpoints`` (by account) of their account whose event types match."""
    deliveries = []
    for row in rows:
        # A row's events share its type: one bundle of thousands is matched once.
        wanting = _wanting(endpoints, row)
        for event in stored.events([row]) if wanting else ():
            body = stored.as_json(event, format_timestamp(event.occurred_at))
            deliveries += [
                delivery_row(e, event.event_id, event.type, now, event_id=event.row_id, payload=body)
                for e in wanting
            ]
    return deliveries


def insert_deliveries(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(WebhookDelivery), rows)
