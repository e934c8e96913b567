"""Users and what hangs directly off them: sub-account membership, permissions, entitlements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.db.columns import utcnow
from enabley.models.identity import NEVER_REUSED_IDS, link_id_column
from enabley.models.lengths import EMAIL_LENGTH, TEXT_LENGTH


class UserSubAccount(Base):
    __tablename__ = "user_sub_accounts"
    __table_args__ = (Index("ix_user_sub_accounts_sub_account_id", "sub_account_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    sub_account_id: Mapped[int] = mapped_column(
        ForeignKey("sub_accounts.id", ondelete="CASCADE"), primary_key=True
    )


class User(TenantOwned, Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        UniqueConstraint("account_id", "username_key"),
        Index("ix_users_account_id_id", "account_id", "id"),
        Index("ix_users_account_id_scim_external_id", "account_id", "scim_external_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    link_id: Mapped[uuid.UUID] = link_id_column()
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    first_name: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    last_name: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    username: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    username_key: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    """The username case-folded: usernames are unique per account whatever their case."""
    # Case-folded copies for the substring filters, so both databases compare alike.
    email_key: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    first_name_key: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    last_name_key: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    phone: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    address: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    possible_roles: Mapped[list[str]] = mapped_column(default=list)
    custom_attributes: Mapped[dict[str, Any] | None]
    password_hash: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    scim_external_id: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    """SCIM's ``externalId``: the identity provider's own id for the user (``/scim/v2``)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserTally(Base):
    """How many users an account has, kept by the database's triggers (migration 0003), so the first
    page of a user walk knows its page count without counting a million rows.

    A count is the sum of its stripes: on PostgreSQL each connection adds to the stripe of its
    backend, so a long upload and a single user's creation in the same account don't wait for each
    other's row lock; SQLite writes one at a time and keeps stripe 0.
    """

    __tablename__ = "user_tallies"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    stripe: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    users: Mapped[int] = mapped_column(BigInteger)


class SubAccountTally(Base):
    """How many users a sub-account holds (``user_sub_accounts`` rows), kept like ``UserTally``."""

    __tablename__ = "sub_account_tallies"

    sub_account_id: Mapped[int] = mapped_column(
        ForeignKey("sub_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    stripe: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    users: Mapped[int] = mapped_column(BigInteger)


class UserPermission(Base):
    __tablename__ = "user_permissions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)


class Entitlement(TenantOwned, Base):
    """A user's role on a course (channel), group or workspace."""

    __tablename__ = "entitlements"
    __table_args__ = (
        UniqueConstraint("user_id", "entity_type", "entity_id", "role"),
        Index("ix_entitlements_entity", "entity_type", "entity_id"),
        Index("ix_entitlements_account_id", "account_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    entity_type: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int]
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
