"""Delivery attempts: claim what is due, POST it signed, record how it went.

Claims and outcomes are short units of work; the HTTP requests run between them, outside any
transaction. A claim moves the delivery's ``next_attempt_at`` past the attempt's longest possible
duration (the lease) under a fresh claim token, in a transaction that skips rows another worker
has locked (PostgreSQL's ``FOR UPDATE SKIP LOCKED``; SQLite has one writer at a time, which
serialises claims the same way). A worker killed mid-attempt leaves its deliveries to come due
again when the lease ends: each is delivered at least once. An outcome is written only under the
claim it was sent with, so a late answer never overwrites a newer attempt.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.orm import Session

from enabley.db.columns import utcnow
from enabley.models.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from enabley.webhooks import rules
from enabley.webhooks.guard import GuardedBackend, RefusedAddress
from enabley.webhooks.rules import Outcome
from enabley.webhooks.signing import SecretBox, signature_header

USER_AGENT = "enabley-webhooks/1"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this worker holds for one attempt."""

    id: int
    claim: str
    endpoint_id: int
    url: str
    secrets: tuple[str, ...]
    message_id: str
    payload: str
    attempts: int
    retry_until: datetime


def lease(timeout: float) -> timedelta:
    """How long a claimed attempt is held: past its own timeout, with room for recording it."""
    return timedelta(seconds=2 * timeout + 1)


def claim_due(
    session: Session, box: SecretBox, now: datetime, limit: int, held_for: timedelta
) -> list[Claimed]:
    """Up to ``limit`` due deliveries of enabled endpoints, claimed for one attempt each."""
    d, e = WebhookDelivery, WebhookEndpoint
    stmt = (
        select(d.id, d.endpoint_id, d.message_id, d.payload, d.attempts, d.retry_until)
        .join(e, e.id == d.endpoint_id)
        .where(d.status == DeliveryStatus.PENDING, d.next_attempt_at <= now, e.enabled.is_(True))
        .order_by(d.next_attempt_at)
        .limit(limit)
        .with_for_update(of=d, skip_locked=True)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return []
    endpoints = {
        row.id: row
        for row in session.execute(
            select(
                e.id, e.url, e.sealed_secret, e.sealed_previous_secret, e.previous_secret_expires_at
            ).where(e.id.in_({row.endpoint_id for row in rows}))
        )
    }
    token = secrets.token_hex(16)
    session.execute(
        update(d)
        .where(d.id.in_([row.id for row in rows]))
        .values(next_attempt_at=now + held_for, claim=token, attempts=d.attempts + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    keys = {eid: _signing_secrets(box, endpoint, now) for eid, endpoint in endpoints.items()}
    return [
        Claimed(
            id=row.id,
            claim=token,
            endpoint_id=row.endpoint_id,
            url=endpoints[row.endpoint_id].url,
            secrets=keys[row.endpoint_id],
            message_id=row.message_id,
            payload=row.payload,
            attempts=row.attempts + 1,
            retry_until=row.retry_until,
        )
        for row in rows
    ]


def _signing_secrets(box: SecretBox, endpoint: Any, now: datetime) -> tuple[str, ...]:
    current = box.open(endpoint.sealed_secret)
    previous, expires = endpoint.sealed_previous_secret, endpoint.previous_secret_expires_at
    if previous is not None and expires is not None and expires > now:
        return current, box.open(previous)
    return (current,)


def client(*, timeout: float, concurrency: int, allow_private: bool) -> httpx2.AsyncClient:
    """The HTTP client of a worker: one pool of keep-alive connections, redirects not followed,
    and, unless private networks are allowed, connections only to addresses webhooks may reach."""
    transport = httpx2.AsyncHTTPTransport(limits=httpx2.Limits(max_connections=concurrency))
    if not allow_private:
        import httpcore2

        # The pool's own network backend is the one place that sees the address connected to.
        transport._pool = httpcore2.AsyncConnectionPool(
            max_connections=concurrency, network_backend=GuardedBackend()
        )
    return httpx2.AsyncClient(
        transport=transport,
        timeout=httpx2.Timeout(timeout),
        follow_redirects=False,
        headers={"user-agent": USER_AGENT},
    )


async def attempt(http: httpx2.AsyncClient, claimed: Claimed, limit: float) -> Outcome:
    """One POST of the delivery, ended within ``limit`` seconds whatever the receiver does."""
    body = claimed.payload.encode()
    stamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": claimed.message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature_header(claimed.secrets, claimed.message_id, stamp, body),
    }
    try:
        async with asyncio.timeout(limit):
            response = await http.post(claimed.url, content=body, headers=headers)
    except (TimeoutError, httpx2.TimeoutException):
        return rules.failure(f"no answer within {limit:g} s")
    except RefusedAddress as exc:
        return rules.failure(f"refused: {exc}")
    except httpx2.HTTPError as exc:
        return rules.failure(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return rules.outcome_of(response.status_code, response.headers.get("retry-after"), utcnow())


_SET_OUTCOME = (
    update(WebhookDelivery)
    .where(and_(WebhookDelivery.id == bindparam("b_id"), WebhookDelivery.claim == bindparam("b_claim")))
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        claim=None,
        last_status_code=bindparam("b_code"),
        last_error=bindparam("b_error"),
        delivered_at=bindparam("b_delivered"),
    )
)


def record(session: Session, results: Sequence[tuple[Claimed, Outcome]], now: datetime) -> dict[str, int]:
    """Write each attempt's outcome (under its claim) and what it says about its endpoint;
    returns how many ended in each way (delivered, retrying, failed)."""
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    params = []
    for claimed, outcome in results:
        step = rules.next_step(outcome, claimed.attempts, claimed.retry_until, now)
        counts["retrying" if step.status == DeliveryStatus.PENDING else step.status] += 1
        params.append(
            {
                "b_id": claimed.id,
                "b_claim": claimed.claim,
                "b_status": step.status,
                "b_next": step.at,
                "b_code": outcome.status_code,
                "b_error": outcome.error,
                "b_delivered": now if outcome.delivered else None,
            }
        )
    if params:
        session.connection().execute(_SET_OUTCOME, params)
    _record_endpoints(session, results, now)
    return counts


def _record_endpoints(session: Session, results: Sequence[tuple[Claimed, Outcome]], now: datetime) -> None:
    e = WebhookEndpoint
    succeeded = {c.endpoint_id for c, o in results if o.delivered}
    failed = {c.endpoint_id for c, o in results if not o.delivered} - succeeded
    gone = {c.endpoint_id for c, o in results if o.gone}
    if succeeded:
        session.execute(
            update(e).where(e.id.in_(succeeded), e.failing_since.is_not(None)).values(failing_since=None)
        )
    if failed:
        first = update(e).where(e.id.in_(failed), e.failing_since.is_(None))
        session.execute(first.values(failing_since=now))
        days = rules.DISABLE_AFTER.days
        session.execute(
            update(e)
            .where(e.id.in_(failed), e.enabled.is_(True), e.failing_since <= now - rules.DISABLE_AFTER)
            .values(enabled=False, disabled_reason=f"every attempt failed for {days} days", modified_at=now)
        )
    if gone:
        session.execute(
            update(e)
            .where(e.id.in_(gone), e.enabled.is_(True))
            .values(enabled=False, disabled_reason="the endpoint answered 410 Gone", modified_at=now)
        )


PURGE_BATCH = 10_000


def purge_finished(session: Session, now: datetime) -> int:
    """Forget up to ``PURGE_BATCH`` deliveries that ended (delivered or failed) longer than
    ``KEPT_FOR`` ago; answers how many."""
    d = WebhookDelivery
    ended = (
        select(d.id)
        .where(d.status != DeliveryStatus.PENDING, d.created_at < now - rules.KEPT_FOR)
        .order_by(d.id)
        .limit(PURGE_BATCH)
    )
    ids = list(session.scalars(ended))
    if ids:
        session.execute(delete(d).where(d.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)
