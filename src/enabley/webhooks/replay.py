"""Replay: the change log's events since a time, queued again for one endpoint."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from enabley.db.base import HasAccount, owned
from enabley.db.columns import utcnow
from enabley.events import stored
from enabley.models import Event
from enabley.webhooks import fanout
from enabley.webhooks.schemas import ReplayInfo
from enabley.webhooks.service import require_endpoint


def replay_events(session: Session, tenant: HasAccount, identifier: str, since: datetime) -> ReplayInfo:
    """New deliveries to the endpoint of every numbered event at or after ``since`` that matches
    its event types, in the feed's order."""
    endpoint = require_endpoint(session, tenant, identifier)
    now = utcnow()
    stmt = owned(Event, tenant).where(Event.position.is_not(None), Event.occurred_at >= since)
    connection = session.connection()
    queued, after = 0, 0
    while rows := stored.read_rows(connection, stmt.where(Event.position > after), after, fanout.BATCH):
        deliveries = fanout.deliveries_for(rows, now, {endpoint.account_id: [endpoint]})
        fanout.insert_deliveries(session, deliveries)
        queued += len(deliveries)
        after = rows[-1].position
    return ReplayInfo(queued=queued, since=since)
