"""Channels (courses and streams, master channels too), their items, members and learner progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.db.columns import utcnow
from enabley.models.identity import NEVER_REUSED_IDS
from enabley.models.lengths import LOCATION_LENGTH, TEXT_LENGTH


class Channel(TenantOwned, Base):
    """An ordinary channel or, with ``is_master``, a master channel; they share one identifier space."""

    __tablename__ = "channels"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_channels_account_id_is_master_id", "account_id", "is_master", "id"),
        Index("ix_channels_master_id", "master_id"),
        Index("ix_channels_sub_account_id", "sub_account_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    type: Mapped[str] = mapped_column(String(16), default="COURSE")
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    is_master: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    """Master channels only: offered for instantiation."""
    master_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    sub_account_id: Mapped[int | None] = mapped_column(ForeignKey("sub_accounts.id", ondelete="SET NULL"))
    categories: Mapped[list[str]] = mapped_column(default=list)
    schedule_start: Mapped[datetime | None]
    schedule_end: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelItem(TenantOwned, Base):
    """A content item (``kind`` CONTENT) or a training event (``kind`` EVENT) of a channel.

    Both kinds share the channel's item identifier space and count alike towards progress.
    """

    __tablename__ = "channel_items"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_channel_items_account_id", "account_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    scored: Mapped[bool] = mapped_column(Boolean, default=False)
    """Content: the item gives a score. Training event: includeGrade."""
    content_type: Mapped[str | None] = mapped_column(String(16))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    from_date: Mapped[datetime | None]
    until_date: Mapped[datetime | None]
    all_day_event: Mapped[bool] = mapped_column(Boolean, default=False)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    live_session: Mapped[bool] = mapped_column(Boolean, default=False)
    location: Mapped[str | None] = mapped_column(String(LOCATION_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelGroup(Base):
    """A group assigned to a channel: its members (and with ``recursive`` its descendants') learn."""

    __tablename__ = "channel_groups"
    __table_args__ = (Index("ix_channel_groups_group_id", "group_id"),)

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    recursive: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[str] = mapped_column(String(16), default="LEARNER")


class ChannelUser(Base):
    """A user assigned directly to a channel with one role (LEARNER or INSTRUCTOR)."""

    __tablename__ = "channel_users"
    __table_args__ = (Index("ix_channel_users_user_id", "user_id"),)

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class ItemProgress(Base):
    """A learner's recorded state on one channel item; kept when the learner leaves the channel."""

    __tablename__ = "item_progress"
    __table_args__ = (
        # Item and completion included: a channel's distribution reads the index alone.
        Index(
            "ix_item_progress_channel_id_user_id_item_id_completed",
            "channel_id",
            "user_id",
            "item_id",
            "completed",
        ),
        Index("ix_item_progress_item_id", "item_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("channel_items.id", ondelete="CASCADE"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
