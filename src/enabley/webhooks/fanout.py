"""The change log turned into deliveries: each numbered event, once, for every endpoint that wants
it. A bundle (``events.stored``) is read whole and gives a delivery for each of its events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from enabley.events import stored
from enabley.models import Event
from enabley.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookFanout
from enabley.schemas import format_timestamp
from enabley.webhooks import rules
from enabley.webhooks.service import delivery_row

BATCH = 1000
CURSOR = "events"


def event_body(event: stored.Stored) -> str:
    """The JSON an attempt POSTs: the event as the change feed shows it (its data as stored)."""
    return (
        f'{{"id":"{event.event_id}","type":"{event.type}",'
        f'"timestamp":"{format_timestamp(event.occurred_at)}","data":{event.data}}}'
    )


def fan_out(session: Session, now: datetime, batch: int = BATCH) -> int:
    """Deliveries for up to ``batch`` events numbered after the cursor; answers how many events.

    The cursor's row is locked for the transaction: workers take turns, and one that finds it
    locked leaves the work to the one holding it rather than wait."""
    cursor = session.scalar(
        select(WebhookFanout).where(WebhookFanout.name == CURSOR).with_for_update(skip_locked=True)
    )
    if cursor is None:
        return 0
    after = select(Event).where(Event.position > cursor.position)
    rows = stored.read_rows(session.connection(), after, cursor.position, batch)
    if not rows:
        return 0
    insert_deliveries(session, deliveries_for(session, rows, now))
    cursor.position = rows[-1].position
    session.flush()
    return sum(row.span for row in rows)


def deliveries_for(
    session: Session, rows: Sequence[Row[Any]], now: datetime, endpoints: Iterable[Any] | None = None
) -> list[dict[str, Any]]:
    """The deliveries owed for the events of ``rows`` (``stored.ROW_COLUMNS`` and the account):
    to each enabled endpoint of their account (or to ``endpoints``) whose event types match."""
    if endpoints is None:
        accounts = {row.account_id for row in rows}
        endpoints = session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.account_id, WebhookEndpoint.event_types).where(
                WebhookEndpoint.account_id.in_(accounts), WebhookEndpoint.enabled.is_(True)
            )
        ).all()
    by_account: dict[int, list[Any]] = defaultdict(list)
    for endpoint in endpoints:
        by_account[endpoint.account_id].append(endpoint)
    deliveries = []
    for row in rows:
        # A row's events share its type: one bundle of thousands is matched once.
        wanting = [e for e in by_account[row.account_id] if rules.matches(e.event_types, row.type)]
        for event in stored.events([row]) if wanting else ():
            body = event_body(event)
            deliveries += [
                delivery_row(e, event.event_id, event.type, now, event_id=event.row_id, payload=body)
                for e in wanting
            ]
    return deliveries


def insert_deliveries(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(WebhookDelivery), rows)
