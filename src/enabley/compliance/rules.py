"""What compliance means for one learner and one certificate; pure, ``now`` is a parameter.

The certificate's state itself is ``certificates.rules.certificate_outcome``'s: these rules only
read it. The SQL that classifies many learners at once (``compliance.query``) follows them, and
the tests hold the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from enabley.certificates.rules import HOLDS_CERTIFICATE, CertificateState, Outcome

NEVER_ENDS = datetime(9999, 12, 30, tzinfo=UTC)
"""Where a certification that never ends sorts among expiration dates: after every one."""
NOT_CERTIFIED = datetime(9999, 12, 31, tzinfo=UTC)
"""Where a learner who does not hold the certificate sorts among expiration dates: last."""


class Scope(StrEnum):
    REQUIRED = "required"
    """Learners for whom the certificate is required (``PUT /api/v1/certificates/compliance``)."""
    ALL = "all"
    """Those, and every learner of one of the certificate's courses."""


class Standing(StrEnum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    EXPIRING = "EXPIRING"


class StatusFilter(StrEnum):
    """Which learners a listing shows: EXPIRING ones are also COMPLIANT."""

    NON_COMPLIANT = "NON_COMPLIANT"
    EXPIRING = "EXPIRING"
    COMPLIANT = "COMPLIANT"
    ALL = "ALL"


@dataclass(frozen=True, slots=True)
class Compliance:
    compliant: bool
    expiring: bool

    @property
    def standing(self) -> Standing:
        if self.expiring:
            return Standing.EXPIRING
        return Standing.COMPLIANT if self.compliant else Standing.NON_COMPLIANT


def in_scope(*, required: bool, learner: bool, scope: Scope) -> bool:
    """Whether the learner counts for the certificate: it is required for him, or with
    ``scope=all`` he learns in one of its courses."""
    return required or (scope is Scope.ALL and learner)


def is_compliant(state: CertificateState) -> bool:
    """Certified now: CERTIFIED or ABOUT_TO_EXPIRE."""
    return state in HOLDS_CERTIFICATE


def expires_within(expiration_date: datetime | None, now: datetime, within: timedelta) -> bool:
    """The certification ends no later than ``within`` from ``now`` (exactly at the limit counts)."""
    return expiration_date is not None and expiration_date <= now + within


def compliance(outcome: Outcome, *, now: datetime, within: timedelta) -> Compliance:
    """Compliant when certified now; expiring when compliant and the certification ends within
    ``within``. (Only for a learner in scope: out of scope, nothing is asked of him.)"""
    compliant = is_compliant(outcome.state)
    return Compliance(compliant, compliant and expires_within(outcome.expiration_date, now, within))


def matches(status: StatusFilter, found: Compliance) -> bool:
    """Whether a listing filtered on ``status`` shows a learner of this compliance."""
    if status is StatusFilter.ALL:
        return True
    if status is StatusFilter.EXPIRING:
        return found.expiring
    return found.compliant == (status is StatusFilter.COMPLIANT)
