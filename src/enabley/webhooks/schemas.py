from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from enabley.models.webhook import (
    DESCRIPTION_LENGTH,
    URL_LENGTH,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from enabley.pagination import PageQuery
from enabley.schemas import (
    ApiModel,
    Identifier,
    JsonBool,
    Timestamp,
)

EVENT_PATTERN = r"^(\*|[a-z][a-z_]*(\.[a-z][a-z_]*)*(\.\*)?)$"
MAX_PATTERNS = 100

EventPattern = Annotated[str, StringConstraints(pattern=EVENT_PATTERN, max_length=255)]
"""An event type (``user.created``), every type of a resource (``user.*``) or every type (``*``)."""


class WebhookData(ApiModel):
    """A webhook endpoint to create or update"""

    identifier: Identifier = Field(description="The endpoint's identifier, chosen by the integrator")
    url: Annotated[str, StringConstraints(min_length=1, max_length=URL_LENGTH)] = Field(
        description="Where events are POSTed (http or https)"
    )
    event_types: list[EventPattern] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        max_length=MAX_PATTERNS,
        description='Event types sent there: exact ("user.created"), per resource ("user.*") or all ("*")',
    )
    description: Annotated[str, StringConstraints(max_length=DESCRIPTION_LENGTH)] | None = None
    enabled: JsonBool = Field(True, description="Whether events are delivered")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "identifier": "crm",
                "url": "https://crm.example.com/enabley/webhooks",
                "eventTypes": ["user.*", "learner.completed"],
                "description": "CRM sync",
                "enabled": True,
            }
        }
    )


class WebhookInfo(ApiModel):
    """A webhook endpoint"""

    identifier: str
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why the server disabled the endpoint (a 410, or days of failures)"
    )
    secret: str | None = Field(
        None,
        description="The signing secret (whsec_...): shown once, when the endpoint is created or its "
        "secret rotated; null otherwise",
    )
    previous_secret_expires: Timestamp | None = Field(
        description="Until when the secret before the last rotation still signs, beside the new one"
    )
    created: Timestamp
    modified: Timestamp

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, secret: str | None = None) -> WebhookInfo:
        """The endpoint as answered; ``secret``, in clear, only when just made."""
        return cls(
            identifier=endpoint.external_id,
            url=endpoint.url,
            event_types=endpoint.event_types,
            description=endpoint.description,
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            secret=secret,
            previous_secret_expires=endpoint.previous_secret_expires_at,
            created=endpoint.created_at,
            modified=endpoint.modified_at,
        )


class WebhookQuery(PageQuery):
    """`GET /api/admin/v1/webhooks`: every endpoint of the account."""


class DeliveryQuery(PageQuery):
    """`GET /api/admin/v1/webhooks/{identifier}/deliveries`: the endpoint's deliveries, oldest first."""


class WebhookDeliveryInfo(ApiModel):
    """One event owed to one endpoint, and how its attempts went"""

    id: str = Field(description="The delivery's id (dlv_...)")
    event_id: str = Field(description="The event's id: the webhook-id header of every attempt")
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt: Timestamp | None
    next_attempt: Timestamp | None = Field(
        description="When the next attempt is due (null once delivered or failed)"
    )
    delivered: Timestamp | None
    created: Timestamp

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> WebhookDeliveryInfo:
        # Built field by field: the row's own ``id`` is internal and never leaves the server.
        return cls(
            id=delivery.public_id,
            event_id=delivery.message_id,
            event_type=delivery.event_type,
            status=DeliveryStatus(delivery.status),
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            last_attempt=delivery.last_attempt_at,
            next_attempt=delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING else None,
            delivered=delivery.delivered_at,
            created=delivery.created_at,
        )


class ReplayInfo(ApiModel):
    """What a replay queued"""

    queued: int = Field(description="Deliveries queued: the endpoint's events since the given time")
    since: Timestamp
