"""The organisation around users: groups (a tree), user profiles and workspaces."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.db.columns import utcnow
from enabley.models.identity import NEVER_REUSED_IDS
from enabley.models.lengths import TEXT_LENGTH


class Group(TenantOwned, Base):
    __tablename__ = "groups"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_groups_account_id_id", "account_id", "id"),
        Index("ix_groups_parent_id", "parent_id"),
        Index("ix_groups_sub_account_id", "sub_account_id"),
        Index("ix_groups_account_id_scim_external_id", "account_id", "scim_external_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    type: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    sub_account_id: Mapped[int | None] = mapped_column(ForeignKey("sub_accounts.id", ondelete="SET NULL"))
    scim_external_id: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    """SCIM's ``externalId``: the identity provider's own id for the group (``/scim/v2``)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserGroup(Base):
    __tablename__ = "user_groups"
    __table_args__ = (Index("ix_user_groups_group_id", "group_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)


class Profile(TenantOwned, Base):
    """A user profile (job profile) as the spec's UserProfiles section names it."""

    __tablename__ = "profiles"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_profiles_account_id_id", "account_id", "id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserProfile(Base):
    __tablename__ = "user_profiles"
    __table_args__ = (Index("ix_user_profiles_profile_id", "profile_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True)


class Workspace(TenantOwned, Base):
    __tablename__ = "workspaces"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_workspaces_account_id_id", "account_id", "id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)
