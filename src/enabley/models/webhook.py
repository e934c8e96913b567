"""Webhook endpoints, the deliveries owed to them, and how far the change log has been fanned out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.db.columns import utcnow
from enabley.models.identity import NEVER_REUSED_IDS
from enabley.models.lengths import TEXT_LENGTH

URL_LENGTH = 2048
DESCRIPTION_LENGTH = 1024
ERROR_LENGTH = 512


class WebhookEndpoint(TenantOwned, Base):
    """Where an account wants its events POSTed, and the secrets that sign them.

    The secrets are kept encrypted under a key derived from the server's secret (they must sign,
    so a hash would not do); the previous one signs beside the current one until
    ``previous_secret_expires_at`` after a rotation.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_webhook_endpoints_account_id_id", "account_id", "id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    url: Mapped[str] = mapped_column(String(URL_LENGTH))
    event_types: Mapped[list[str]]
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_LENGTH))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    sealed_secret: Mapped[str] = mapped_column(Text)
    sealed_previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    failing_since: Mapped[datetime | None]
    """The first failed attempt since the last success: five days of that disable the endpoint."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(TenantOwned, Base):
    """One event owed to one endpoint, and how its attempts went.

    ``event_id`` names a row of the change log without a foreign key: the log is purged after its
    retention and a delivery's history may outlive it; a test event has no row there. A worker
    claims a due delivery by moving ``next_attempt_at`` past the attempt's
    longest possible duration (the lease) under a fresh ``claim``: another worker finds it due
    again only if this one died, and an outcome is recorded only under the claim it was sent with.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
        Index("ix_webhook_deliveries_account_id", "account_id"),
        Index("ix_webhook_deliveries_event_id", "event_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(64))
    """The event's public id: the ``webhook-id`` of every attempt."""
    event_type: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    payload: Mapped[str] = mapped_column(Text)
    """The body of every attempt, fixed when the delivery is made: the same bytes each time, and
    kept after the change log has purged the event."""
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    retry_until: Mapped[datetime]
    claim: Mapped[str | None] = mapped_column(String(32))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookFanout(Base):
    """How far the change log has been turned into deliveries: one row, locked by the fan-out."""

    __tablename__ = "webhook_fanout"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
