"""API clients and access tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from enabley import security
from enabley.accounts import service as accounts_service
from enabley.auth.schemas import TokenResponse
from enabley.config import Settings
from enabley.db.database import Database
from enabley.db.fastquery import FastQuery
from enabley.errors import AccessDenied, InvalidClient, NotFound
from enabley.models import Account, ApiClient, SigningKey
from enabley.security import KeyRing

active_client = select(ApiClient.id, ApiClient.account_id).where(
    ApiClient.client_key == bindparam("client_key"), ApiClient.revoked_at.is_(None)
)
"""The caller's client while it is active (bind ``client_key``); hot queries may join from it."""
ACTIVE_CLIENT = FastQuery(active_client)

W = TypeVar("W", bound=Callable[..., Any])


def revoked() -> AccessDenied:
    """The refusal of a token whose API client was revoked, or whose account was deleted."""
    return AccessDenied("The API client of this token has been revoked")


def checks_client(work: W) -> W:
    """Marks a lookup (``Tenant.lookup``) whose statement joins from ``active_client`` itself, and
    answers ``revoked()`` when that finds nothing: the separate check would repeat it."""
    work.checks_client = True  # type: ignore[attr-defined]
    return work


_NEWEST_KID = select(SigningKey.kid).order_by(SigningKey.created_at.desc(), SigningKey.kid.desc()).limit(1)
# One round trip per token: the client, its account's name and the key that signs now.
_CREDENTIALS = FastQuery(
    select(
        ApiClient.secret_hash,
        ApiClient.revoked_at,
        Account.name.label("account_name"),
        _NEWEST_KID.scalar_subquery().label("kid"),
    )
    .join(Account, Account.id == ApiClient.account_id)
    .where(ApiClient.client_key == bindparam("client_key"))
)


def create_client(session: Session, account_name: str) -> tuple[ApiClient, str]:
    """A new client of the account and its secret; the secret is not kept and can't be shown again."""
    account = accounts_service.get_account(session, account_name)
    secret = security.new_client_secret()
    client = ApiClient(
        account_id=account.id,
        client_key=security.new_client_key(),
        secret_hash=security.hash_client_secret(secret),
    )
    session.add(client)
    session.flush()
    return client, secret


def revoke_client(session: Session, client_key: str) -> ApiClient:
    client = session.scalar(select(ApiClient).where(ApiClient.client_key == client_key))
    if client is None:
        raise NotFound(f"No API client with clientKey {client_key!r}")
    if client.revoked_at is None:
        client.revoked_at = datetime.now(UTC)
    return client


def issue_token(
    db: Database, keyring: KeyRing, settings: Settings, client_key: str, secret: str
) -> TokenResponse:
    with db.read() as connection:
        row = _CREDENTIALS.first(connection, {"client_key": client_key})
    matches = security.client_secret_matches(secret, row.secret_hash if row is not None else None)
    if row is None or not matches or row.revoked_at is not None:
        raise InvalidClient("Invalid clientKey or secret")
    kid = security.ENV_KID if keyring.from_environment else row.kid
    key = keyring.find(kid, db, signing=True)
    if key is None:
        raise RuntimeError("no signing key: run `enabley db upgrade` or start the server once")
    token = security.issue_token(
        settings, kid=kid, secret=key, client_key=client_key, account=row.account_name
    )
    return TokenResponse(access_token=token, expires_in=settings.token_ttl_seconds * 1000)
