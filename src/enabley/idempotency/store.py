"""Idempotency keys in the database: claiming a key, keeping the answer, giving the key back.

The state lives in the database, never in a process: the unique key on ``(client_id, key)``
decides which of two concurrent requests runs, whichever process each reached. Each function
is one unit of work (``Tenant.write``), run on the database's threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import Connection, and_, bindparam, delete, select
from sqlalchemy.orm import Session

from enabley.auth.service import active_client, checks_client, revoked
from enabley.db.base import locked, owned
from enabley.db.fastquery import FastQuery, Reader
from enabley.db.sql import insert_ignoring
from enabley.idempotency.rules import KEPT_FOR, LEASE
from enabley.models.idempotency import IdempotencyKey


class Caller(Protocol):
    """Who keys are scoped to: an API client of an account (``deps.Tenant``)."""

    @property
    def account_id(self) -> int: ...

    @property
    def client_id(self) -> int: ...

    @property
    def client_key(self) -> str: ...


class Found(Enum):
    CLAIMED = "claimed"
    """The key is this request's: it runs, and its answer is kept."""
    ANSWERED = "answered"
    """The same request was answered already: replay that answer."""
    RUNNING = "running"
    """The same request holds the key and has not answered yet."""
    DIFFERENT = "different"
    """The key was used for another request."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, Any]
    body: bytes | None
    """Compressed; None when it was too large to keep."""


@dataclass(frozen=True, slots=True)
class Outcome:
    found: Found
    claimed_at: datetime | None = None
    """What identifies this request's claim (a key taken over gets a new time)."""
    answer: Answer | None = None


# The key of the caller's active client, joined from the client itself: one probe of two unique
# indexes that also confirms the client (no row: revoked), as the user lookup does.
_ACTIVE = active_client.subquery("active_client")
_HELD = FastQuery(
    select(
        _ACTIVE.c.id.label("active_client_id"),
        IdempotencyKey.id,
        IdempotencyKey.fingerprint,
        IdempotencyKey.created_at,
        IdempotencyKey.status,
        IdempotencyKey.headers,
        IdempotencyKey.body,
    )
    .select_from(_ACTIVE)
    .outerjoin(
        IdempotencyKey,
        and_(
            IdempotencyKey.client_id == _ACTIVE.c.id,
            IdempotencyKey.account_id == _ACTIVE.c.account_id,
            IdempotencyKey.key == bindparam("key"),
        ),
    )
)


@checks_client
def peek(reader: Reader, caller: Caller, key: str, fingerprint: str, now: datetime) -> Outcome | None:
    """What holds ``key``, read without claiming it; None when it is free. On SQLite a claim
    waits for the one writer, which may be the very request holding the key: a retry looks first
    (a bounded index probe, which SQLite answers inline: ``Tenant.lookup``)."""
    row = _HELD.first(reader, {"client_key": caller.client_key, "key": key})
    if row is None:
        raise revoked()
    return _held(row if row.id is not None else None, fingerprint, now)


def claim(session: Session, caller: Caller, key: str, fingerprint: str, now: datetime) -> Outcome:
    """Take ``key`` for the request ``fingerprint``, or say what holds it."""
    inserted = session.execute(
        insert_ignoring(session.get_bind().dialect, IdempotencyKey.__table__)
        .values(
            account_id=caller.account_id,
            client_id=caller.client_id,
            key=key,
            fingerprint=fingerprint,
            created_at=now,
        )
        .returning(IdempotencyKey.id)
    )
    if inserted.scalar_one_or_none() is not None:
        return Outcome(Found.CLAIMED, claimed_at=now)
    # Taken already, perhaps by a concurrent request (PostgreSQL waited for its commit).
    row = _row(session, caller, key)
    if row is None:
        return Outcome(Found.RUNNING)  # given back meanwhile: the next look claims it
    held = _held(row, fingerprint, now)
    if held is not None:
        return held
    # Expired, or held by a process that died mid-request: the key is free again.
    row.fingerprint, row.created_at = fingerprint, now
    row.status = row.headers = row.body = None
    session.flush()
    return Outcome(Found.CLAIMED, claimed_at=now)


def _held(row: Any, fingerprint: str, now: datetime) -> Outcome | None:
    """What holds the key whose row (the ORM's, or ``_HELD``'s) is ``row``; None when it is free."""
    if row is None or row.created_at <= now - KEPT_FOR:
        return None
    if row.status is None and row.created_at <= now - LEASE:
        return None
    if row.fingerprint != fingerprint:
        return Outcome(Found.DIFFERENT)
    if row.status is None:
        return Outcome(Found.RUNNING)
    return Outcome(Found.ANSWERED, answer=Answer(row.status, row.headers or {}, row.body))


def keep(session: Session, caller: Caller, key: str, claimed_at: datetime, answer: Answer) -> None:
    """Keep the answer of the request that claimed ``key`` at ``claimed_at``."""
    row = _row(session, caller, key)
    if row is not None and row.created_at == claimed_at and row.status is None:
        row.status, row.headers, row.body = answer.status, answer.headers, answer.body


def give_back(session: Session, caller: Caller, key: str, claimed_at: datetime) -> None:
    """Free ``key``: its request answered what a retry should not get again (a 5xx), or failed."""
    row = _row(session, caller, key)
    if row is not None and row.created_at == claimed_at and row.status is None:
        session.delete(row)


def _row(session: Session, caller: Caller, key: str) -> IdempotencyKey | None:
    query = owned(IdempotencyKey, caller).where(
        IdempotencyKey.client_id == caller.client_id, IdempotencyKey.key == key
    )
    return session.scalars(locked(session, query, changing=True)).first()


def purge_idempotency_keys(connection: Connection, now: datetime) -> int:
    """Delete the keys older than a day (``KEPT_FOR``): how many. For the worker's periodic sweep;
    lookups ignore expired keys anyway."""
    result = connection.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - KEPT_FOR))
    return int(getattr(result, "rowcount", 0) or 0)
