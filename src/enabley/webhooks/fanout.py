"""The change log turned into deliveries: each numbered event, once, for every endpoint that wants it."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from enabley.models import Event
from enabley.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookFanout
from enabley.schemas import format_timestamp
from enabley.webhooks import rules
from enabley.webhooks.service import delivery_row

BATCH = 1000
CURSOR = "events"

EVENT_COLUMNS = (Event.id, Event.event_id, Event.type, Event.occurred_at, Event.data, Event.account_id)


def event_body(event: Any) -> str:
    """The JSON an attempt POSTs: the event as the change feed shows it."""
    body = {
        "id": event.event_id,
        "type": event.type,
        "timestamp": format_timestamp(event.occurred_at),
        "data": event.data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def fan_out(session: Session, now: datetime, batch: int = BATCH) -> int:
    """Deliveries for up to ``batch`` events numbered after the cursor; answers how many events.

    The cursor's row is locked for the transaction: workers take turns, and one that finds it
    locked leaves the work to the one holding it rather than wait."""
    cursor = session.scalar(
        select(WebhookFanout).where(WebhookFanout.name == CURSOR).with_for_update(skip_locked=True)
    )
    if cursor is None:
        return 0
    events = session.execute(
        select(*EVENT_COLUMNS, Event.position)
        .where(Event.position > cursor.position)
        .order_by(Event.position)
        .limit(batch)
    ).all()
    if not events:
        return 0
    insert_deliveries(session, deliveries_for(session, events, now))
    position = events[-1].position
    assert position is not None
    cursor.position = position
    session.flush()
    return len(events)


def deliveries_for(
    session: Session, events: Sequence[Row[Any]], now: datetime, endpoints: Iterable[Any] | None = None
) -> list[dict[str, Any]]:
    """The deliveries owed for ``events``: to each enabled endpoint of their account (or to
    ``endpoints``) whose event types match."""
    if endpoints is None:
        accounts = {event.account_id for event in events}
        endpoints = session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.account_id, WebhookEndpoint.event_types).where(
                WebhookEndpoint.account_id.in_(accounts), WebhookEndpoint.enabled.is_(True)
            )
        ).all()
    by_account: dict[int, list[Any]] = defaultdict(list)
    for endpoint in endpoints:
        by_account[endpoint.account_id].append(endpoint)
    rows = []
    for event in events:
        wanting = [e for e in by_account[event.account_id] if rules.matches(e.event_types, event.type)]
        if wanting:
            body = event_body(event)
            rows += [
                delivery_row(e, event.event_id, event.type, now, event_id=event.id, payload=body)
                for e in wanting
            ]
    return rows


def insert_deliveries(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(WebhookDelivery), rows)
