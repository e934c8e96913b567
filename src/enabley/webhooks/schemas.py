from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, ConfigDict, Field, StringConstraints

from enabley.models.webhook import DESCRIPTION_LENGTH, URL_LENGTH, DeliveryStatus
from enabley.pagination import PageQuery
from enabley.schemas import (
    ApiModel,
    CreatedAt,
    ExternalIdentifier,
    Identifier,
    JsonBool,
    ModifiedAt,
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

    identifier: ExternalIdentifier
    url: str
    event_types: list[str] = Field(validation_alias=AliasChoices("eventTypes", "event_types"))
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(
        validation_alias=AliasChoices("disabledReason", "disabled_reason"),
        description="Why the server disabled the endpoint (a 410, or days of failures)",
    )
    secret: str | None = Field(
        None,
        description="The signing secret (whsec_...): shown once, when the endpoint is created or its "
        "secret rotated; null otherwise",
    )
    previous_secret_expires: Timestamp | None = Field(
        validation_alias=AliasChoices("previousSecretExpires", "previous_secret_expires_at"),
        description="Until when the secret before the last rotation still signs, beside the new one",
    )
    created: CreatedAt
    modified: ModifiedAt


class WebhookQuery(PageQuery):
    """`GET /api/admin/v1/webhooks`: every endpoint of the account."""


class DeliveryQuery(PageQuery):
    """`GET /api/admin/v1/webhooks/{identifier}/deliveries`: the endpoint's deliveries, oldest first."""


class WebhookDeliveryInfo(ApiModel):
    """One event owed to one endpoint, and how its attempts went"""

    id: str = Field(validation_alias=AliasChoices("id", "public_id"), description="The delivery's id")
    event_id: str = Field(
        validation_alias=AliasChoices("eventId", "message_id"),
        description="The event's id: the webhook-id header of every attempt",
    )
    event_type: str = Field(validation_alias=AliasChoices("eventType", "event_type"))
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None = Field(validation_alias=AliasChoices("lastStatusCode", "last_status_code"))
    last_error: str | None = Field(validation_alias=AliasChoices("lastError", "last_error"))
    last_attempt: Timestamp | None = Field(validation_alias=AliasChoices("lastAttempt", "last_attempt_at"))
    next_attempt: Timestamp | None = Field(
        validation_alias=AliasChoices("nextAttempt", "next_attempt_at"),
        description="When the next attempt is due (null once delivered or failed)",
    )
    delivered: Timestamp | None = Field(validation_alias=AliasChoices("delivered", "delivered_at"))
    created: CreatedAt


class ReplayInfo(ApiModel):
    """What a replay queued"""

    queued: int = Field(description="Deliveries queued: the endpoint's events since the given time")
    since: Timestamp
