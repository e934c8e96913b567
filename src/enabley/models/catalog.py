"""Channels published in an account's catalog or in one sub-account's catalog."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.db.columns import utcnow
from enabley.models.identity import NEVER_REUSED_IDS


class CatalogEntry(TenantOwned, Base):
    __tablename__ = "catalog_entries"
    __table_args__ = (
        # One entry per channel and catalog; the account-wide catalog has no sub-account.
        Index(
            "uq_catalog_entries_channel_sub_account",
            "channel_id",
            "sub_account_id",
            unique=True,
            sqlite_where=text("sub_account_id IS NOT NULL"),
            postgresql_where=text("sub_account_id IS NOT NULL"),
        ),
        Index(
            "uq_catalog_entries_channel_account_wide",
            "channel_id",
            unique=True,
            sqlite_where=text("sub_account_id IS NULL"),
            postgresql_where=text("sub_account_id IS NULL"),
        ),
        Index("ix_catalog_entries_account_id", "account_id"),
        Index("ix_catalog_entries_sub_account_id", "sub_account_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    catalog_item_id: Mapped[str] = mapped_column(String(36), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    sub_account_id: Mapped[int | None] = mapped_column(ForeignKey("sub_accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
