"""Idempotency keys: the first answer to a keyed write, kept for a day so that a retry replays it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.models.identity import NEVER_REUSED_IDS

KEY_LENGTH = 255
"""The longest Idempotency-Key accepted (a UUID takes 36)."""


class IdempotencyKey(TenantOwned, Base):
    """One API client's key, and what the request first sent with it answered.

    ``status`` is None while that request runs: the row is its claim, and the unique key on
    ``(client_id, key)`` decides which of two concurrent requests runs, in every process."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("client_id", "key"),
        Index("ix_idempotency_keys_account_id", "account_id"),
        Index("ix_idempotency_keys_created_at", "created_at"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the request: method, path, query string and body."""
    created_at: Mapped[datetime]
    """When the request that holds the key began: the key expires a day later."""
    status: Mapped[int | None]
    headers: Mapped[dict[str, Any] | None]
    """The answer's headers that a replay repeats (Content-Type, Location...)."""
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The answer's body, zlib-compressed; None when it was too large to keep."""
