"""Accounts (tenants), their sub-accounts, API clients and the server's own keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.db.columns import utcnow
from enabley.models.identity import NEVER_REUSED_IDS
from enabley.models.lengths import TEXT_LENGTH


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH), unique=True)
    hierarchy: Mapped[list[str]] = mapped_column(default=list)
    """Ordered group types; empty when the account sets no hierarchy."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def account_id(self) -> int:
        """An account scopes queries like a tenant does (see ``db.owned``)."""
        return self.id


class SubAccount(TenantOwned, Base):
    __tablename__ = "sub_accounts"
    __table_args__ = (UniqueConstraint("account_id", "name"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiClient(TenantOwned, Base):
    __tablename__ = "api_clients"
    __table_args__ = (Index("ix_api_clients_account_id", "account_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    """HMAC-SHA256 of the secret under the server's credential key: the secret itself is never stored."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class ScimToken(TenantOwned, Base):
    """A long-lived bearer token an identity provider provisions through (SCIM 2.0, ``/scim/v2``)."""

    __tablename__ = "scim_tokens"
    __table_args__ = (
        Index("ix_scim_tokens_account_id", "account_id"),
        Index("ix_scim_tokens_sub_account_id", "sub_account_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    """What operators name the token by (``enabley scim tokens revoke``): the integer id stays inside."""
    sub_account_id: Mapped[int | None] = mapped_column(ForeignKey("sub_accounts.id", ondelete="CASCADE"))
    """The sub-account the token is confined to; a token outlives no sub-account it is scoped to."""
    group_type: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    """The type given to the groups it creates, where the account's hierarchy requires one."""
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    """HMAC-SHA256 of the token under the server's credential key: the token itself is never stored."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SigningKey(Base):
    """Keys that sign access tokens; the newest signs, older ones verify until their tokens expire."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServerSecret(Base):
    """Named random secrets shared by every process on the database (pagination keys, links)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
