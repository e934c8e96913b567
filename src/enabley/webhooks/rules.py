"""Which events an endpoint wants, and what an attempt's answer means: pure logic, no I/O."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

RETRY_FOR = timedelta(days=3)
"""How long a delivery keeps being retried before it is marked failed."""
DISABLE_AFTER = timedelta(days=5)
"""An endpoint failing for this long without a single success is disabled."""
SECRET_OVERLAP = timedelta(hours=24)
"""How long a rotated-out secret keeps signing beside the new one."""
FIRST_DELAY = timedelta(seconds=5)
LONGEST_DELAY = timedelta(hours=8)
LONGEST_RETRY_AFTER = timedelta(days=1)
"""A ``Retry-After`` is honoured up to this long (a receiver asking for a week is answered sooner)."""
MAX_ERROR = 512
KEPT_FOR = timedelta(days=30)
"""How long a delivered or failed delivery stays listed."""


def matches(patterns: Iterable[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to ``patterns`` wants events of ``event_type``."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: doubling from 5 s up to 8 h, with
    jitter (between half and all of it) so that retries of one outage don't arrive together.
    About twenty attempts fit in the three days."""
    ceiling = min(FIRST_DELAY * (1 << min(max(attempts - 1, 0), 32)), LONGEST_DELAY)
    share: float = (rng or random).uniform(0.5, 1.0)
    return ceiling * share


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header's wait (seconds, or an HTTP date), at most a day; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            wait = parsedate_to_datetime(value) - now
        except (TypeError, ValueError, IndexError):
            return None
    return max(min(wait, LONGEST_RETRY_AFTER), timedelta(0))


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended, as recorded."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None
    wait: timedelta | None = None
    """The receiver's own ``Retry-After`` (429, 503)."""
    gone: bool = False
    """410: the receiver wants no more events: the endpoint is disabled."""


def outcome_of(status_code: int, retry_after_header: str | None, now: datetime) -> Outcome:
    if 200 <= status_code < 300:
        return Outcome(delivered=True, status_code=status_code)
    if status_code == 410:
        return Outcome(False, status_code, "the endpoint answered 410 Gone", gone=True)
    wait = retry_after(retry_after_header, now) if status_code in (429, 503) else None
    return Outcome(False, status_code, f"the endpoint answered {status_code}", wait=wait)


def failure(error: str) -> Outcome:
    """An attempt that got no answer (refused, timed out, refused by the address guard)."""
    return Outcome(delivered=False, error=error[:MAX_ERROR])


@dataclass(frozen=True, slots=True)
class Next:
    """What follows an attempt: delivered, retried at ``at``, or failed for good."""

    status: str
    at: datetime | None


def next_step(outcome: Outcome, attempts: int, retry_until: datetime, now: datetime) -> Next:
    if outcome.delivered:
        return Next("delivered", None)
    if outcome.gone:
        return Next("failed", None)
    at = now + (outcome.wait if outcome.wait is not None else backoff(attempts))
    if at > retry_until:
        return Next("failed", None)
    return Next("pending", at)
