"""SCIM tokens: created and revoked by the operator, checked on every SCIM request.

A token is 256 random bits; the server keeps only its HMAC-SHA256 under the credential key, as it
does for API client secrets, and finds the token by that hash (a unique index): the hash of a
high-entropy secret reveals nothing, and an equality probe on it leaks nothing through timing
that an attacker could use to guess a token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from enabley import security
from enabley.accounts import service as accounts_service
from enabley.db.database import Database
from enabley.db.fastquery import FastQuery, Reader
from enabley.errors import InvalidRequest, NotFound
from enabley.models import Account, ScimToken, SubAccount

TOKEN_PREFIX = "scim_"  # noqa: S105 - a marker, not a secret
TOUCH_INTERVAL = timedelta(minutes=1)
"""How stale ``last_used_at`` may be: writing it on every request would make every read a write."""


class TokenRow(NamedTuple):
    """What an operator sees of a token (never the token itself)."""

    id: str
    account: str
    sub_account: str | None
    group_type: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


_ACTIVE = FastQuery(
    select(
        ScimToken.id,
        ScimToken.public_id,
        ScimToken.account_id,
        ScimToken.sub_account_id,
        ScimToken.group_type,
        ScimToken.token_hash,
        ScimToken.last_used_at,
    ).where(ScimToken.token_hash == bindparam("token_hash"), ScimToken.revoked_at.is_(None))
)
_STILL_ACTIVE = FastQuery(
    select(ScimToken.id).where(ScimToken.id == bindparam("token_id"), ScimToken.revoked_at.is_(None))
)


def hash_token(token: str) -> str:
    return security.hash_client_secret(token)


def create_token(
    session: Session, account_name: str, sub_account: str | None, group_type: str | None
) -> tuple[ScimToken, str]:
    """A new token of the account (confined to ``sub_account`` when given) and its secret value,
    which is not kept and can't be shown again."""
    account = accounts_service.get_account(session, account_name)
    sub = accounts_service.resolve_sub_account(session, account, sub_account)
    if group_type is not None and account.hierarchy and group_type not in account.hierarchy:
        raise InvalidRequest(
            f"Group type {group_type!r} is not in the hierarchy of {account_name!r}: "
            f"{', '.join(account.hierarchy)}"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ScimToken(
        account_id=account.id,
        public_id=uuid.uuid4().hex,
        sub_account_id=sub.id if sub is not None else None,
        group_type=group_type,
        token_hash=hash_token(token),
    )
    session.add(row)
    session.flush()
    return row, token


def list_tokens(session: Session, account_name: str) -> list[TokenRow]:
    account = accounts_service.get_account(session, account_name)
    rows = session.execute(
        select(
            ScimToken.public_id,
            Account.name,
            SubAccount.name,
            ScimToken.group_type,
            ScimToken.created_at,
            ScimToken.last_used_at,
            ScimToken.revoked_at,
        )
        .join(Account, Account.id == ScimToken.account_id)
        .outerjoin(SubAccount, SubAccount.id == ScimToken.sub_account_id)
        .where(ScimToken.account_id == account.id)
        .order_by(ScimToken.id)
    )
    return [TokenRow(*row) for row in rows]


def revoke_token(session: Session, public_id: str) -> None:
    row = session.scalar(select(ScimToken).where(ScimToken.public_id == public_id))
    if row is None:
        raise NotFound(f"No SCIM token with id {public_id!r}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)


def well_formed(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX) and len(token) <= 128


def find_active(reader: Reader, wanted: str) -> Any:
    """The active token row whose hash is ``wanted``, or None (revoked or unknown)."""
    row = _ACTIVE.first(reader, {"token_hash": wanted})
    # The probe found it by its hash; compared again in constant time all the same.
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    return row


@dataclass(slots=True)
class KnownToken:
    """An active token as this process knows it: its row, the rate limiter's key of its requests,
    and the tenant it stands for (``auth.ScimTenant``, made by its first request): none of them
    changes while the token is active."""

    row: Any
    touch_after: float
    """When (``time.monotonic()``) its use is next noted in ``last_used_at``."""
    limiter_key: str
    tenant: Any = None


class ActiveTokens:
    """A digest of the token -> what this process knows of it (``KnownToken``), for the tokens it
    found active: what the door needs to know of a token (its account, sub-account, limiter key,
    the tenant it stands for) never changes, so it is neither read nor made again on every request.

    Only revocation changes, and it is not decided here: every unit of work a token runs
    confirms in its own transaction that the token is unrevoked (``auth.ScimTenant``), so a
    revoked token fails on its very next call on every process all the same; the unit that finds
    it revoked forgets it here, and the door refuses it from then on (a failure it counts). Only
    tokens that were found active are kept: an unknown token always reaches the database and is
    counted as a failure. Shared by the event loop and the database's threads, hence the lock.
    """

    MAX_KNOWN = 1_000

    def __init__(self) -> None:
        self._known: dict[bytes, KnownToken] = {}
        self._lock = threading.Lock()

    def get(self, digest: bytes) -> KnownToken | None:
        # One read of the table, atomic as it is: only the writers take the lock.
        return self._known.get(digest)

    def add(self, digest: bytes, row: Any) -> KnownToken:
        known = KnownToken(row, _touch_after(row.last_used_at), limiter_key(row))
        with self._lock:
            if len(self._known) >= self.MAX_KNOWN:
                # The oldest entry: a token in use is found again by its next request.
                del self._known[next(iter(self._known))]
            self._known[digest] = known
        return known

    def forget(self, token_id: int) -> None:
        with self._lock:
            for digest in [d for d, known in self._known.items() if known.row.id == token_id]:
                del self._known[digest]


def still_active(reader: Reader, token_id: int) -> bool:
    """Whether the token is still unrevoked: checked by every unit of work it runs."""
    return _STILL_ACTIVE.first(reader, {"token_id": token_id}) is not None


def _touch_after(last_used_at: datetime | None) -> float:
    """When, on the monotonic clock, the use of a token last used then is next to be noted."""
    if last_used_at is None:
        return 0.0
    return time.monotonic() + (TOUCH_INTERVAL - (datetime.now(UTC) - last_used_at)).total_seconds()


def touch(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ScimToken).where(ScimToken.id == token_id).values(last_used_at=now))


def limiter_key(row: Any) -> str:
    """What the token's requests count against (``ENABLEY_RATE_LIMIT``, as an API client's)."""
    return f"scim:{row.public_id}"


def _find(db: Database, wanted: str) -> Any:
    with db.read() as reader:
        return find_active(reader, wanted)


def _touch(db: Database, token_id: int, now: datetime) -> None:
    with db.session(write=True) as session:
        touch(session, token_id, now)


async def verify(db: Database, token: str, known: ActiveTokens) -> KnownToken | None:
    """The active token, or None (revoked, unknown or malformed): from ``known`` when this
    process found it active before, else a bounded index probe (decision 0006). Notes when the
    token was last used, once a minute at most."""
    if not well_formed(token):
        return None
    # The keyed hash the row is stored under is made only when the token is not known: a plain
    # digest names a known one (a tenth of the cost), so no token is kept as it was sent.
    digest = hashlib.sha256(token.encode()).digest()
    found = known.get(digest)
    if found is None:
        row = await db.probe(_find, db, hash_token(token))
        if row is None:
            return None
        found = known.add(digest, row)
    if time.monotonic() >= found.touch_after:
        # Noted before the write, so that the requests meanwhile don't write it too.
        found.touch_after = time.monotonic() + TOUCH_INTERVAL.total_seconds()
        await db.run(partial(_touch, db, found.row.id, datetime.now(UTC)))
    return found
