"""A user's certificate state, derived from course progress and dates; never stored."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class CertificateState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    CERTIFIED = "CERTIFIED"
    AWAITS_LEARNER_CONFIRMATION = "AWAITS_LEARNER_CONFIRMATION"
    ABOUT_TO_EXPIRE = "ABOUT_TO_EXPIRE"
    EXPIRED = "EXPIRED"
    INIT = "INIT"
    REVOKED = "REVOKED"


class ExpirationPeriod(StrEnum):
    MONTH = "MONTH"
    YEAR = "YEAR"
    DAY = "DAY"


HOLDS_CERTIFICATE = frozenset({CertificateState.CERTIFIED, CertificateState.ABOUT_TO_EXPIRE})
"""States in which the user is certified now (and the certificate PDF can be had)."""


@dataclass(frozen=True, slots=True)
class CourseStatus:
    progress: int
    """Whole percent of the course's required items completed."""
    completed_at: datetime | None
    """When the course was completed; None until progress is 100."""


@dataclass(frozen=True, slots=True)
class Outcome:
    state: CertificateState
    certification_date: datetime | None
    expiration_date: datetime | None

    @property
    def certified(self) -> bool:
        return self.state in HOLDS_CERTIFICATE


def add_period(start: datetime, duration: int, period: ExpirationPeriod) -> datetime:
    """``start`` plus ``duration`` calendar days, months or years (a month end stays in range:
    January 31 plus one month is the last day of February)."""
    if period is ExpirationPeriod.DAY:
        return start + timedelta(days=duration)
    months = duration * (12 if period is ExpirationPeriod.YEAR else 1)
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def certificate_outcome(
    courses: Sequence[CourseStatus],
    *,
    revoked: bool,
    requires_confirmation: bool,
    confirmed: bool,
    expiration: tuple[int, ExpirationPeriod] | None,
    now: datetime,
    warning: timedelta,
) -> Outcome:
    """The state of one user's certificate.

    REVOKED once revoked; INIT while no course has progress; IN_PROGRESS until every course is
    complete; then AWAITS_LEARNER_CONFIRMATION when the certificate asks for a confirmation not
    yet given; otherwise certified at the latest course completion, EXPIRED once the expiration
    date is reached and ABOUT_TO_EXPIRE within ``warning`` of it.
    """
    if revoked:
        return Outcome(CertificateState.REVOKED, None, None)
    if not courses or all(course.progress <= 0 for course in courses):
        return Outcome(CertificateState.INIT, None, None)
    completions = [course.completed_at for course in courses]
    if any(done is None for done in completions):
        return Outcome(CertificateState.IN_PROGRESS, None, None)
    if requires_confirmation and not confirmed:
        return Outcome(CertificateState.AWAITS_LEARNER_CONFIRMATION, None, None)
    certified_at = max(done for done in completions if done is not None)
    if expiration is None:
        return Outcome(CertificateState.CERTIFIED, certified_at, None)
    expires_at = add_period(certified_at, *expiration)
    if now >= expires_at:
        state = CertificateState.EXPIRED
    elif now >= expires_at - warning:
        state = CertificateState.ABOUT_TO_EXPIRE
    else:
        state = CertificateState.CERTIFIED
    return Outcome(state, certified_at, expires_at)
