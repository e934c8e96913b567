"""Webhook endpoints, their deliveries, and the change feed they are fed from (admin API)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from enabley.client.models._base import DataModel, Timestamp, WireModel


class WebhookData(DataModel):
    """A webhook endpoint to create or update. ``event_types``: exact (``user.created``), per
    resource (``user.*``) or all (``*``, the default on creation)."""

    identifier: str
    url: str
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


class WebhookInfo(WireModel):
    """A webhook endpoint. ``secret`` (``whsec_...``) is set only in the answer that created the
    endpoint or rotated its secret: keep it then, it is never shown again."""

    identifier: str
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    secret: str | None = None
    previous_secret_expires: Timestamp | None
    created: Timestamp
    modified: Timestamp


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDeliveryInfo(WireModel):
    """One event owed to one endpoint, and how its attempts went. ``event_id`` is the
    ``webhook-id`` header of every attempt."""

    id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt: Timestamp | None
    next_attempt: Timestamp | None
    delivered: Timestamp | None
    created: Timestamp


class ReplayInfo(WireModel):
    """What a replay queued: ``queued`` new deliveries, for the events since ``since``."""

    queued: int
    since: Timestamp


class EventInfo(WireModel):
    """A change of the account: ``type`` is ``resource.action``; ``data`` the object after it."""

    id: str
    type: str
    timestamp: Timestamp
    data: dict[str, Any]


class EventPage(WireModel):
    """A page of the change feed: pass ``next_cursor`` as ``after`` to read on."""

    items: list[EventInfo]
    next_cursor: str | None
