"""Webhook endpoints as the admin API manages them: create, change, rotate, test, list."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from enabley.db.base import HasAccount, locked, owned
from enabley.db.columns import utcnow
from enabley.db.upsert import add, insert_or_find
from enabley.errors import NotFound
from enabley.models.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from enabley.pagination import Page, Walk
from enabley.schemas import format_timestamp
from enabley.webhooks import rules
from enabley.webhooks.schemas import (
    DeliveryQuery,
    WebhookData,
    WebhookDeliveryInfo,
    WebhookInfo,
    WebhookQuery,
)
from enabley.webhooks.signing import SecretBox, new_secret

TEST_EVENT = "webhook.test"


def require_endpoint(
    session: Session, tenant: HasAccount, identifier: str, *, changing: bool = False
) -> WebhookEndpoint:
    stmt = owned(WebhookEndpoint, tenant).where(WebhookEndpoint.external_id == identifier)
    endpoint = session.scalar(locked(session, stmt, changing=changing))
    if endpoint is None:
        raise NotFound(f"Webhook {identifier!r} not found")
    return endpoint


def put_webhook(
    session: Session, tenant: HasAccount, data: WebhookData, box: SecretBox
) -> tuple[WebhookInfo, bool]:
    """Create or update; a new endpoint's secret is in the answer, this once."""
    find = locked(
        session,
        owned(WebhookEndpoint, tenant).where(WebhookEndpoint.external_id == data.identifier),
        changing=True,
    )
    endpoint = session.scalar(find)
    now = utcnow()
    if endpoint is None:
        secret = new_secret()
        new = WebhookEndpoint(
            account_id=tenant.account_id,
            external_id=data.identifier,
            url=data.url,
            event_types=data.event_types,
            description=data.description,
            enabled=data.enabled,
            sealed_secret=box.seal(secret),
            created_at=now,
            modified_at=now,
        )
        stored, created = insert_or_find(lambda: add(session, new), lambda: session.scalar(find))
        if created:
            return WebhookInfo.of(stored, secret), True
        endpoint = stored
    if data.enabled and not endpoint.enabled:
        # Enabled again by hand: the server's reason and the failure streak are history.
        endpoint.disabled_reason, endpoint.failing_since = None, None
    endpoint.url, endpoint.event_types = data.url, data.event_types
    endpoint.description, endpoint.enabled = data.description, data.enabled
    endpoint.modified_at = now
    session.flush()
    return WebhookInfo.of(endpoint), False


def get_webhook(session: Session, tenant: HasAccount, identifier: str) -> WebhookInfo:
    return WebhookInfo.of(require_endpoint(session, tenant, identifier))


def webhooks_page(session: Session, tenant: HasAccount, walk: Walk[WebhookQuery]) -> Page[WebhookInfo]:
    page = walk.fetch(session, owned(WebhookEndpoint, tenant), [WebhookEndpoint.id])
    return page.page([WebhookInfo.of(row[0]) for row in page.rows])


def delete_webhook(session: Session, tenant: HasAccount, identifier: str) -> None:
    """The endpoint and its deliveries (the foreign key cascades)."""
    session.delete(require_endpoint(session, tenant, identifier, changing=True))
    session.flush()


def rotate_secret(session: Session, tenant: HasAccount, identifier: str, box: SecretBox) -> WebhookInfo:
    """A new secret, shown this once; the current one keeps signing beside it for 24 hours."""
    endpoint = require_endpoint(session, tenant, identifier, changing=True)
    now = utcnow()
    secret = new_secret()
    endpoint.sealed_previous_secret = endpoint.sealed_secret
    endpoint.previous_secret_expires_at = now + rules.SECRET_OVERLAP
    endpoint.sealed_secret = box.seal(secret)
    endpoint.modified_at = now
    session.flush()
    return WebhookInfo.of(endpoint, secret)


def delivery_row(
    endpoint: Any, message_id: str, event_type: str, now: datetime, **event: Any
) -> dict[str, Any]:
    """The columns of a new delivery, due now; ``event``: its ``event_id`` or its ``payload``."""
    return {
        "account_id": endpoint.account_id,
        "endpoint_id": endpoint.id,
        "public_id": "dlv_" + secrets.token_hex(12),
        "message_id": message_id,
        "event_type": event_type,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "retry_until": now + rules.RETRY_FOR,
        "created_at": now,
        **event,
    }


def send_test(session: Session, tenant: HasAccount, identifier: str) -> WebhookDeliveryInfo:
    """Queue a ``webhook.test`` event for the endpoint, whatever event types it asked for."""
    endpoint = require_endpoint(session, tenant, identifier)
    now = utcnow()
    message_id = "evt_" + secrets.token_hex(12)
    body = {
        "id": message_id,
        "type": TEST_EVENT,
        "timestamp": format_timestamp(now),
        "data": {"webhook": endpoint.external_id},
    }
    row = delivery_row(endpoint, message_id, TEST_EVENT, now, payload=json.dumps(body, separators=(",", ":")))
    session.execute(insert(WebhookDelivery), [row])
    delivery = session.scalars(
        owned(WebhookDelivery, tenant).where(WebhookDelivery.public_id == row["public_id"])
    ).one()
    return WebhookDeliveryInfo.of(delivery)


def deliveries_page(
    session: Session, tenant: HasAccount, walk: Walk[DeliveryQuery], identifier: str
) -> Page[WebhookDeliveryInfo]:
    endpoint = require_endpoint(session, tenant, identifier)
    stmt = owned(WebhookDelivery, tenant).where(WebhookDelivery.endpoint_id == endpoint.id)
    page = walk.fetch(session, stmt, [WebhookDelivery.id])
    return page.page([WebhookDeliveryInfo.of(row[0]) for row in page.rows])


def retry_delivery(session: Session, tenant: HasAccount, delivery_id: str) -> WebhookDeliveryInfo:
    """Send a delivery again now, and keep retrying it for another three days if it fails."""
    stmt = owned(WebhookDelivery, tenant).where(WebhookDelivery.public_id == delivery_id)
    delivery = session.scalar(locked(session, stmt, changing=True))
    if delivery is None:
        raise NotFound(f"Delivery {delivery_id!r} not found")
    now = utcnow()
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.retry_until = now + rules.RETRY_FOR
    delivery.claim = None
    session.flush()
    return WebhookDeliveryInfo.of(delivery)
