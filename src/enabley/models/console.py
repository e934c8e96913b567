"""People who use the web console, and their server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.db.columns import utcnow
from enabley.models.identity import NEVER_REUSED_IDS
from enabley.models.lengths import EMAIL_LENGTH, TEXT_LENGTH


class ConsoleUser(TenantOwned, Base):
    """A person who signs in to the console: sees one account, or only one of its sub-accounts."""

    __tablename__ = "console_users"
    __table_args__ = (
        Index("ix_console_users_account_id", "account_id"),
        Index("ix_console_users_sub_account_id", "sub_account_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    """Case-folded: the login form's address is folded the same way."""
    sub_account_id: Mapped[int | None] = mapped_column(ForeignKey("sub_accounts.id", ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    """argon2id; the password itself is shown once, by the command that creates the user."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsoleSession(Base):
    """A signed-in browser: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_console_user_id", "console_user_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    console_user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    """The synchroniser token every form and fetch of this session must send back."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
