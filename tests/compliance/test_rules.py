"""The compliance rules on every certificate state and boundary, with ``now`` fixed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from enabley.certificates.rules import CertificateState, CourseStatus, ExpirationPeriod, certificate_outcome
from enabley.compliance.rules import (
    Compliance,
    Scope,
    Standing,
    StatusFilter,
    compliance,
    expires_within,
    in_scope,
    matches,
)

NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)
WARNING = timedelta(days=30)
YEAR = (1, ExpirationPeriod.YEAR)


def outcome(certified_at=None, *, courses=None, revoked=False, confirm=(False, False), expiration=YEAR):
    if courses is None:
        courses = [CourseStatus(100, certified_at)]
    return certificate_outcome(
        courses,
        revoked=revoked,
        requires_confirmation=confirm[0],
        confirmed=confirm[1],
        expiration=expiration,
        now=NOW,
        warning=WARNING,
    )


def standing(found, within_days=30):
    return compliance(found, now=NOW, within=timedelta(days=within_days)).standing


def test_in_scope_when_required_whatever_the_scope():
    assert in_scope(required=True, learner=False, scope=Scope.REQUIRED)
    assert in_scope(required=True, learner=True, scope=Scope.ALL)


def test_a_learner_not_required_is_in_scope_only_with_scope_all():
    assert not in_scope(required=False, learner=True, scope=Scope.REQUIRED)
    assert in_scope(required=False, learner=True, scope=Scope.ALL)


def test_neither_required_nor_learner_is_never_in_scope():
    assert not in_scope(required=False, learner=False, scope=Scope.ALL)


def test_certified_far_from_expiry_is_compliant_and_not_expiring():
    found = outcome(NOW - timedelta(days=100))
    assert found.state is CertificateState.CERTIFIED
    assert standing(found) is Standing.COMPLIANT


def test_certification_that_never_expires_is_never_expiring():
    found = outcome(NOW - timedelta(days=5000), expiration=None)
    assert (found.state, found.expiration_date) == (CertificateState.CERTIFIED, None)
    assert standing(found, within_days=100_000) is Standing.COMPLIANT


def test_about_to_expire_is_compliant_and_expiring():
    found = outcome(NOW - timedelta(days=350))
    assert found.state is CertificateState.ABOUT_TO_EXPIRE
    assert standing(found) is Standing.EXPIRING


def test_expiring_exactly_at_within_days_counts():
    certified = NOW - timedelta(days=300)
    found = outcome(certified)
    days_left = found.expiration_date - NOW
    assert days_left.seconds == 0  # a whole number of days from NOW
    assert standing(found, within_days=days_left.days) is Standing.EXPIRING
    assert standing(found, within_days=days_left.days - 1) is Standing.COMPLIANT


def test_expiring_boundary_to_the_microsecond():
    expires = NOW + timedelta(days=10)
    assert expires_within(expires, NOW, timedelta(days=10))
    assert not expires_within(expires + timedelta(microseconds=1), NOW, timedelta(days=10))
    assert not expires_within(None, NOW, timedelta(days=10))


def test_expired_today_is_non_compliant():
    # Certified exactly a year before NOW: the certification ends at NOW itself.
    found = outcome(datetime(2025, 6, 15, 9, 30, tzinfo=UTC))
    assert (found.state, found.expiration_date) == (CertificateState.EXPIRED, NOW)
    assert standing(found) is Standing.NON_COMPLIANT


def test_one_microsecond_before_its_end_the_certification_still_counts():
    found = outcome(datetime(2025, 6, 15, 9, 30, tzinfo=UTC) + timedelta(microseconds=1))
    assert found.state is CertificateState.ABOUT_TO_EXPIRE
    assert standing(found, within_days=1) is Standing.EXPIRING
    assert standing(found, within_days=0) is Standing.COMPLIANT


def test_revoked_is_non_compliant_even_when_every_course_is_complete():
    found = outcome(NOW - timedelta(days=1), revoked=True)
    assert found.state is CertificateState.REVOKED
    assert standing(found) is Standing.NON_COMPLIANT


def test_awaiting_confirmation_is_non_compliant_until_confirmed():
    waiting = outcome(NOW - timedelta(days=1), confirm=(True, False))
    assert waiting.state is CertificateState.AWAITS_LEARNER_CONFIRMATION
    assert standing(waiting) is Standing.NON_COMPLIANT
    assert standing(outcome(NOW - timedelta(days=1), confirm=(True, True))) is Standing.COMPLIANT


@pytest.mark.parametrize(
    ("courses", "state"),
    [
        ([], CertificateState.INIT),
        ([CourseStatus(0, None)], CertificateState.INIT),
        ([CourseStatus(50, None)], CertificateState.IN_PROGRESS),
        ([CourseStatus(100, NOW - timedelta(days=3)), CourseStatus(0, None)], CertificateState.IN_PROGRESS),
    ],
)
def test_not_yet_certified_is_non_compliant(courses, state):
    found = outcome(courses=courses)
    assert found.state is state
    assert standing(found) is Standing.NON_COMPLIANT


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (StatusFilter.ALL, {Standing.COMPLIANT, Standing.EXPIRING, Standing.NON_COMPLIANT}),
        (StatusFilter.COMPLIANT, {Standing.COMPLIANT, Standing.EXPIRING}),
        (StatusFilter.EXPIRING, {Standing.EXPIRING}),
        (StatusFilter.NON_COMPLIANT, {Standing.NON_COMPLIANT}),
    ],
)
def test_status_filters(status, shown):
    each = {
        Standing.COMPLIANT: Compliance(True, False),
        Standing.EXPIRING: Compliance(True, True),
        Standing.NON_COMPLIANT: Compliance(False, False),
    }
    assert {standing for standing, found in each.items() if matches(status, found)} == shown
