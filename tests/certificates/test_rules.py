"""The certificate state machine and its calendar arithmetic, with time as a parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from enabley.certificates.rules import (
    CertificateState,
    CourseStatus,
    ExpirationPeriod,
    add_period,
    certificate_outcome,
)

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
WARNING = timedelta(days=30)


def d(year, month, day, hour=0):
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "duration", "period", "expected"),
    [
        (d(2024, 1, 31), 1, ExpirationPeriod.MONTH, d(2024, 2, 29)),
        (d(2023, 1, 31), 1, ExpirationPeriod.MONTH, d(2023, 2, 28)),
        (d(2024, 11, 30, 9), 3, ExpirationPeriod.MONTH, d(2025, 2, 28, 9)),
        (d(2024, 5, 10), 14, ExpirationPeriod.MONTH, d(2025, 7, 10)),
        (d(2024, 2, 29), 1, ExpirationPeriod.YEAR, d(2025, 2, 28)),
        (d(2024, 2, 29), 4, ExpirationPeriod.YEAR, d(2028, 2, 29)),
        (d(2024, 12, 31), 1, ExpirationPeriod.DAY, d(2025, 1, 1)),
    ],
)
def test_add_period_is_calendar_arithmetic(start, duration, period, expected):
    assert add_period(start, duration, period) == expected


def outcome(courses, *, revoked=False, confirm=False, confirmed=False, expiration=None, now=NOW):
    return certificate_outcome(
        courses,
        revoked=revoked,
        requires_confirmation=confirm,
        confirmed=confirmed,
        expiration=expiration,
        now=now,
        warning=WARNING,
    )


DONE_A = CourseStatus(100, d(2026, 1, 10))
DONE_B = CourseStatus(100, d(2026, 3, 1))


def test_init_until_some_course_has_progress_then_in_progress_until_all_complete():
    assert outcome([CourseStatus(0, None), CourseStatus(0, None)]).state is CertificateState.INIT
    assert outcome([]).state is CertificateState.INIT
    assert outcome([CourseStatus(0, None), CourseStatus(1, None)]).state is CertificateState.IN_PROGRESS
    assert outcome([DONE_A, CourseStatus(99, None)]).state is CertificateState.IN_PROGRESS


def test_certified_at_the_latest_completion_without_expiry():
    result = outcome([DONE_B, DONE_A])
    assert (result.state, result.certification_date, result.expiration_date) == (
        CertificateState.CERTIFIED,
        DONE_B.completed_at,
        None,
    )
    assert result.certified


def test_expiry_warning_and_expired():
    one_year = (1, ExpirationPeriod.YEAR)
    expires = d(2027, 3, 1)
    assert outcome([DONE_A, DONE_B], expiration=one_year).expiration_date == expires
    assert outcome([DONE_B], expiration=one_year, now=expires - WARNING - timedelta(seconds=1)).state is (
        CertificateState.CERTIFIED
    )
    warned = outcome([DONE_B], expiration=one_year, now=expires - WARNING)
    assert warned.state is CertificateState.ABOUT_TO_EXPIRE and warned.certified
    expired = outcome([DONE_B], expiration=one_year, now=expires)
    assert expired.state is CertificateState.EXPIRED and not expired.certified
    assert expired.certification_date == DONE_B.completed_at


def test_confirmation_and_revocation():
    awaiting = outcome([DONE_A], confirm=True)
    assert (awaiting.state, awaiting.certification_date) == (
        CertificateState.AWAITS_LEARNER_CONFIRMATION,
        None,
    )
    assert outcome([DONE_A], confirm=True, confirmed=True).state is CertificateState.CERTIFIED
    # Confirming early does not skip the courses.
    assert (
        outcome([CourseStatus(50, None)], confirm=True, confirmed=True).state is CertificateState.IN_PROGRESS
    )
    revoked = outcome([DONE_A], revoked=True)
    assert (revoked.state, revoked.certification_date, revoked.certified) == (
        CertificateState.REVOKED,
        None,
        False,
    )
    assert outcome([CourseStatus(0, None)], revoked=True).state is CertificateState.REVOKED


def test_pdf_renders_with_the_core_font_when_no_unicode_font_is_installed(monkeypatch):
    import io

    import pypdf

    from enabley.certificates import pdf

    monkeypatch.setattr(pdf, "_unicode_font", lambda: None)
    content = pdf.render_certificate(
        pdf.CertificateDocument("José Souza", "Forklift safety", d(2026, 1, 3), d(2027, 1, 3))
    )
    text = pypdf.PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "José Souza" in text and "Valid until 3 January 2027" in text
