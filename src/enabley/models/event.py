"""The change log: one row per change an integrator can learn about (docs/decisions/0009-change-log.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.models.identity import NEVER_REUSED_IDS

EVENT_ID_LENGTH = 40
EVENT_TYPE_LENGTH = 64


class Event(TenantOwned, Base):
    """A change, written in the transaction that made it; numbered (``position``) only after that
    transaction committed, in the order changes became visible, which is the feed's order. ``id``
    is the order of insertion only: a transaction that inserts first may commit last."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_account_id_position", "account_id", "position"),
        # What the sequencer looks for: the few rows not numbered yet, without scanning the log.
        Index(
            "ix_events_unsequenced",
            "id",
            postgresql_where=text("position IS NULL"),
            sqlite_where=text("position IS NULL"),
        ),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH), unique=True)
    type: Mapped[str] = mapped_column(String(EVENT_TYPE_LENGTH))
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
    position: Mapped[int | None] = mapped_column(BigInteger, unique=True)


class CertificateNotice(Base):
    """A time-driven event already emitted for one certification of a user: the expiry sweep
    emits ``certificate.about_to_expire`` and ``certificate.expired`` once per certification,
    and a new certification (another ``certified_at``) is noticed afresh."""

    __tablename__ = "certificate_notices"
    __table_args__ = (Index("ix_certificate_notices_certificate_id", "certificate_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[str] = mapped_column(String(EVENT_TYPE_LENGTH), primary_key=True)
    certified_at: Mapped[datetime]
