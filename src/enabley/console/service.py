"""Console users (made by the operator) and their sign-ins: passwords, sessions, CSRF tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.db.fastquery import FastQuery, Reader
from enabley.errors import InvalidRequest, ItemExists, NotFound
from enabley.models import Account, ConsoleSession, ConsoleUser, SubAccount

_hasher = PasswordHasher()
# Verified when the address is unknown, so that a wrong address costs what a wrong password does.
_DECOY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def fold_email(email: str) -> str:
    return email.strip().casefold()


def new_password() -> str:
    """A password of 128 random bits, shown once by the command that sets it."""
    return secrets.token_urlsafe(16)


def token_digest(token: str) -> str:
    # Session tokens are 256 random bits: a plain SHA-256 is enough to keep them useless at rest.
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session, account_name: str, email: str, sub_account_name: str | None
) -> tuple[ConsoleUser, str]:
    """A console user of the account (or of one sub-account) and its password, not kept."""
    account = accounts_service.get_account(session, account_name)
    folded = fold_email(email)
    if "@" not in folded or len(folded) > 320:
        raise InvalidRequest(f"{email!r} is not an email address")
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.email == folded)) is not None:
        raise ItemExists(f"A console user {folded!r} already exists")
    sub = accounts_service.resolve_sub_account(session, account, sub_account_name)
    password = new_password()
    user = ConsoleUser(
        account_id=account.id,
        email=folded,
        sub_account_id=sub.id if sub is not None else None,
        password_hash=_hasher.hash(password),
    )
    session.add(user)
    session.flush()
    return user, password


def reset_password(session: Session, email: str) -> str:
    """A new password for the user; every session it had ends."""
    user = require_user(session, email)
    password = new_password()
    user.password_hash = _hasher.hash(password)
    session.execute(delete(ConsoleSession).where(ConsoleSession.console_user_id == user.id))
    return password


def require_user(session: Session, email: str) -> ConsoleUser:
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.email == fold_email(email)))
    if user is None:
        raise NotFound(f"No console user {fold_email(email)!r}")
    return user


def delete_user(session: Session, email: str) -> None:
    """The user and its sessions (a signed-in browser is signed out on its next request)."""
    session.delete(require_user(session, email))
    session.flush()


def list_users(session: Session, account_name: str) -> list[tuple[str, str | None]]:
    account = accounts_service.get_account(session, account_name)
    rows = session.execute(
        select(ConsoleUser.email, SubAccount.name)
        .outerjoin(SubAccount, SubAccount.id == ConsoleUser.sub_account_id)
        .where(ConsoleUser.account_id == account.id)
        .order_by(ConsoleUser.email)
    )
    return [(email, sub) for email, sub in rows]


_CREDENTIALS = FastQuery(
    select(ConsoleUser.id, ConsoleUser.password_hash).where(ConsoleUser.email == bindparam("email"))
)


def find_credentials(reader: Reader, email: str) -> tuple[int, str] | None:
    """(id, password hash) of the console user with this address (a bounded index probe)."""
    row = _CREDENTIALS.first(reader, {"email": fold_email(email)})
    return (int(row.id), str(row.password_hash)) if row is not None else None


def password_matches(credentials: tuple[int, str] | None, password: str) -> int | None:
    """The user's id when the password is theirs, else None. argon2 is slow on purpose: call it
    off the event loop; an unknown address is checked against a decoy, so it costs the same."""
    try:
        _hasher.verify(credentials[1] if credentials is not None else _DECOY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return credentials[0] if credentials is not None else None


def open_session(session: Session, user_id: int, hours: int) -> tuple[str, str]:
    """A new session of the user: (the cookie's token, the CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        ConsoleSession(
            token_hash=token_digest(token),
            console_user_id=user_id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    # Expired sessions of this user go as it signs in again: the table keeps only live ones.
    session.execute(
        delete(ConsoleSession).where(
            ConsoleSession.console_user_id == user_id, ConsoleSession.expires_at <= now
        )
    )
    session.flush()
    return token, csrf


def close_session(session: Session, token: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_digest(token)))


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live console session: who it is, and where it may look."""

    session_id: int
    user_id: int
    email: str
    account_id: int
    account_name: str
    sub_account_name: str | None
    csrf_token: str
    token_hash: str


_SESSION = FastQuery(
    select(
        ConsoleSession.id,
        ConsoleSession.csrf_token,
        ConsoleSession.expires_at,
        ConsoleUser.id.label("user_id"),
        ConsoleUser.email,
        ConsoleUser.account_id,
        SubAccount.name.label("sub_account_name"),
        Account.name.label("account_name"),
    )
    .join(ConsoleUser, ConsoleUser.id == ConsoleSession.console_user_id)
    .join(Account, Account.id == ConsoleUser.account_id)
    .outerjoin(SubAccount, SubAccount.id == ConsoleUser.sub_account_id)
    .where(ConsoleSession.token_hash == bindparam("token_hash"))
)


def find_session(reader: Reader, token: str) -> SignedIn | None:
    """The live session behind a cookie's token; None when unknown, ended or expired."""
    digest = token_digest(token)
    row = _SESSION.first(reader, {"token_hash": digest})
    if row is None or row.expires_at <= datetime.now(UTC):
        return None
    return SignedIn(
        session_id=row.id,
        user_id=row.user_id,
        email=row.email,
        account_id=row.account_id,
        account_name=row.account_name,
        sub_account_name=row.sub_account_name,
        csrf_token=row.csrf_token,
        token_hash=digest,
    )


_ALIVE = FastQuery(
    select(ConsoleSession.id, ConsoleSession.expires_at).where(
        ConsoleSession.token_hash == bindparam("token_hash")
    )
)


def still_signed_in(reader: Reader, token_hash: str) -> bool:
    row = _ALIVE.first(reader, {"token_hash": token_hash})
    return row is not None and row.expires_at > datetime.now(UTC)
