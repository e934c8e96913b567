"""The certificate events a change of progress or of a user's certificate facts emits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enabley.certificates.service import UserOutcome, _outcomes, _with_facts
from enabley.db.base import HasAccount
from enabley.db.columns import utcnow
from enabley.events import log
from enabley.models import Certificate, CertificateCourse, User
from enabley.schemas import format_timestamp

Certified = dict[str, dict[str, Any]]
"""A user's certificates held now: external certificate id -> the event's data."""


def _date(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def state_data(user: User, found: UserOutcome) -> dict[str, Any]:
    """A user's certificate as ``GET /api/v1/certificates/users/{id}`` shows it, without the PDF
    link: a signed link expires, an event is kept."""
    return {
        "userIdentifier": user.external_id,
        "externalCertificateId": found.certificate.external_id,
        "name": found.certificate.name,
        "isRequired": found.is_required,
        "state": found.outcome.state.value,
        "certificationDate": _date(found.outcome.certification_date),
        "expirationDate": _date(found.outcome.expiration_date),
    }


def held(session: Session, tenant: HasAccount, user: User, channel_id: int) -> Certified:
    """The certificates the user holds now among those ``channel_id`` is a course of."""
    with_channel = select(CertificateCourse.certificate_id).where(CertificateCourse.channel_id == channel_id)
    facts = session.execute(_with_facts(tenant, user.id).where(Certificate.id.in_(with_channel))).all()
    if not facts:
        return {}
    outcomes = _outcomes(
        session, tenant, user, [(c, f) for c, f in facts], now=utcnow(), warning=timedelta(0)
    )
    return {o.certificate.external_id: state_data(user, o) for o in outcomes if o.outcome.certified}


def emit_newly_held(session: Session, tenant: HasAccount, before: Certified, after: Certified) -> None:
    for identifier in sorted(after.keys() - before.keys()):
        log.emit(session, tenant.account_id, "certificate.certified", after[identifier])
