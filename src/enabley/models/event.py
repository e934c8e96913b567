"""The change log: one row per change an integrator can learn about (docs/decisions/0009-change-log.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.models.identity import NEVER_REUSED_IDS

EVENT_ID_LENGTH = 40
EVENT_TYPE_LENGTH = 64


NUMBERED = text("position IS NOT NULL")
UNNUMBERED = text("position IS NULL")


class Event(TenantOwned, Base):
    """A change, written in the transaction that made it; numbered (``position``) only after that
    transaction committed, in the order changes became visible, which is the feed's order. ``id``
    is the order of insertion only: a transaction that inserts first may commit last.

    A new row touches as few indexes as can serve the log's readers (decisions 0013 and 0015): the
    indexes of positions hold numbered rows only, the index of unnumbered rows holds them by
    account, and ``event_id`` (80 random bits) has none;
    ``account_id`` has no foreign key, which PostgreSQL would check once per row of a bulk write:
    ``events.log`` holds the account as that check did, once per write, and deleting an account
    deletes its events (``accounts.service.delete_account``). ``data`` is JSON text as written
    (not ``jsonb``, whose parsing a bulk write paid per row, and which nothing queries into).

    A row holds one event, or many of one type written together by one bulk write (a bundle,
    decision 0016): ``events.stored`` lays them out and reads them back as events."""

    __tablename__ = "events"
    __table_args__ = (
        # The feed's order (an account's numbered events).
        Index(
            "ix_events_account_id_position",
            "account_id",
            "position",
            postgresql_where=NUMBERED,
            sqlite_where=NUMBERED,
        ),
        # The numbering's order and the fan-out's (across accounts), and the proof of the
        # sequencer's promise that no position is given twice.
        Index(
            "uq_events_position", "position", unique=True, postgresql_where=NUMBERED, sqlite_where=NUMBERED
        ),
        # The rows not numbered yet, by account (the feed numbers its own account's), without
        # scanning the log: a new row's only index but the primary key's.
        Index(
            "ix_events_unsequenced",
            "account_id",
            "id",
            postgresql_where=UNNUMBERED,
            sqlite_where=UNNUMBERED,
        ),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH))
    type: Mapped[str] = mapped_column(String(EVENT_TYPE_LENGTH))
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    position: Mapped[int | None] = mapped_column(BigInteger)
    """The feed position of the row's last event: a row holds ``span`` events, at ``position -
    span + 1`` to ``position``."""
    span: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    """How many events the row holds: one, or a bundle's (``events.stored``)."""
    account_id: Mapped[int] = mapped_column(Integer)


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
