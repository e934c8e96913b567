"""What an operator watches of webhooks: attempts by outcome, the queue, the oldest wait."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enabley.models.webhook import DeliveryStatus, WebhookDelivery

DELIVERIES = Counter(
    "enabley_webhook_deliveries_total",
    "Webhook attempts by outcome: delivered, retrying (will be attempted again) or failed (for good)",
    ["outcome"],
)
QUEUE_DEPTH = Gauge("enabley_webhook_queue_depth", "Webhook deliveries not yet delivered nor failed")
OLDEST_AGE = Gauge(
    "enabley_webhook_oldest_undelivered_seconds",
    "Age of the oldest event still waiting to be delivered (0 when none waits)",
)


def count_outcomes(counts: dict[str, int]) -> None:
    for outcome, n in counts.items():
        if n:
            DELIVERIES.labels(outcome).inc(n)


def observe_queue(session: Session, now: datetime) -> tuple[int, float]:
    """Sets the queue's gauges; returns the depth and the oldest wait in seconds."""
    depth, oldest = session.execute(
        select(func.count(), func.min(WebhookDelivery.created_at)).where(
            WebhookDelivery.status == DeliveryStatus.PENDING
        )
    ).one()
    age = 0.0
    if oldest is not None:
        if oldest.tzinfo is None:  # SQLite's MIN() comes back as text the column type doesn't see
            oldest = oldest.replace(tzinfo=now.tzinfo)
        age = max((now - oldest).total_seconds(), 0.0)
    QUEUE_DEPTH.set(depth)
    OLDEST_AGE.set(age)
    return int(depth), age
