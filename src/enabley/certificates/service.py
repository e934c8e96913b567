"""Certificates: their definition (admin), and each connected user's derived state.

A user is connected to a certificate while he learns in any of its courses. His state is
derived on every read from his recorded progress in all of its courses (see ``rules``); only
the facts set by hand (required, revoked, confirmed) are stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, delete, select
from sqlalchemy.orm import Session

from enabley.certificates import links, pdf, rules
from enabley.certificates.schemas import (
    CertificateData,
    CertificateExpiration,
    CertificateInformation,
    ExternalUserCertificateState,
)
from enabley.channels import enrolment
from enabley.compliance import standings
from enabley.db.base import AccountScope, HasAccount, owned
from enabley.db.columns import utcnow
from enabley.db.sql import insert_ignore
from enabley.db.upsert import add, insert_or_find
from enabley.errors import InvalidRequest, ItemNotExists, NotFound
from enabley.events import log
from enabley.models import Certificate, CertificateCourse, Channel, User, UserCertificate
from enabley.pagination import Page, PageQuery, Walk
from enabley.performance import rules as performance_rules
from enabley.performance import service as performance_service
from enabley.users import service as users_service

if TYPE_CHECKING:
    from enabley.deps import AppContext

# --- definitions -------------------------------------------------------------------------


def require_certificate(session: Session, tenant: HasAccount, identifier: str) -> Certificate:
    certificate = session.scalar(owned(Certificate, tenant).where(Certificate.external_id == identifier))
    if certificate is None:
        raise NotFound(f"Certificate {identifier!r} not found")
    return certificate


def _course_identifiers(session: Session, certificate_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(certificate_ids)
    found: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return found
    rows = session.execute(
        select(CertificateCourse.certificate_id, Channel.external_id)
        .join(Channel, Channel.id == CertificateCourse.channel_id)
        .where(CertificateCourse.certificate_id.in_(ids))
        .order_by(CertificateCourse.certificate_id, CertificateCourse.position, Channel.id)
    )
    for certificate_id, identifier in rows:
        found[certificate_id].append(identifier)
    return found


def _info(certificate: Certificate, course_ids: Sequence[str]) -> CertificateInformation:
    expiration = None
    if certificate.expiration_duration is not None and certificate.expiration_period is not None:
        expiration = CertificateExpiration(
            duration=certificate.expiration_duration,
            period=rules.ExpirationPeriod(certificate.expiration_period),
        )
    return CertificateInformation.model_validate(
        {
            "course_ids": list(course_ids),
            "created": certificate.created_at,
            "expiration": expiration,
            "external_certificate_id": certificate.external_id,
            "name": certificate.name,
            "status": certificate.status,
            "requires_learner_confirmation": certificate.requires_learner_confirmation,
        }
    )


def infos(session: Session, certificates: Sequence[Certificate]) -> list[CertificateInformation]:
    courses = _course_identifiers(session, [c.id for c in certificates])
    return [_info(c, courses.get(c.id, ())) for c in certificates]


def list_certificates(session: Session, tenant: HasAccount) -> list[CertificateInformation]:
    return infos(session, session.scalars(owned(Certificate, tenant).order_by(Certificate.id)).all())


def certificates_page(
    session: Session, tenant: HasAccount, walk: Walk[PageQuery]
) -> Page[CertificateInformation]:
    page = walk.fetch(session, owned(Certificate, tenant), [Certificate.id])
    return page.page(infos(session, [row[0] for row in page.rows]))


def get_certificate(session: Session, tenant: HasAccount, identifier: str) -> CertificateInformation:
    return infos(session, [require_certificate(session, tenant, identifier)])[0]


def _resolve_courses(session: Session, tenant: HasAccount, identifiers: Sequence[str]) -> list[int]:
    wanted = list(dict.fromkeys(identifiers))
    if not wanted:
        return []
    found = {
        identifier: channel_id
        for identifier, channel_id in session.execute(
            owned(Channel, tenant)
            .with_only_columns(Channel.external_id, Channel.id)
            .where(Channel.external_id.in_(wanted), Channel.is_master.is_(False))
        )
    }
    missing = [identifier for identifier in wanted if identifier not in found]
    if missing:
        raise InvalidRequest(f"Unknown courseIds: {', '.join(map(repr, missing))}")
    return [found[identifier] for identifier in wanted]


def upsert_certificate(
    session: Session, tenant: HasAccount, data: CertificateData
) -> tuple[CertificateInformation, bool]:
    """Create or update; returns the certificate's information and whether it was created."""
    given = data.model_fields_set
    find = owned(Certificate, tenant).where(Certificate.external_id == data.external_certificate_id)
    certificate = session.scalar(find)
    created = certificate is None
    channel_ids = (
        _resolve_courses(session, tenant, data.course_ids) if created or "course_ids" in given else None
    )
    if certificate is None:
        now = utcnow()
        new = Certificate(
            account_id=tenant.account_id,
            external_id=data.external_certificate_id,
            created_at=now,
            modified_at=now,
        )
        _apply(new, data, set(type(data).model_fields))
        stored, created = insert_or_find(lambda: add(session, new), lambda: session.scalar(find))
        certificate = stored
        if not created and "course_ids" not in given:
            channel_ids = None  # created meanwhile: this is now an update, which keeps its courses
    changed = False if created else _apply(certificate, data, given)
    if channel_ids is not None and _replace_courses(session, certificate, channel_ids) and not created:
        changed = True
    if changed:
        certificate.modified_at = utcnow()
    session.flush()
    if created or changed:
        # Its courses, expiration or confirmation rule may have changed every learner's standing.
        standings.refresh(session, tenant, [certificate.id])
    return infos(session, [certificate])[0], created


def _apply(certificate: Certificate, data: CertificateData, given: set[str]) -> bool:
    values: dict[str, Any] = {"name": data.name}
    if "expiration" in given:
        values["expiration_duration"] = data.expiration.duration if data.expiration else None
        values["expiration_period"] = data.expiration.period.value if data.expiration else None
    if "status" in given:
        values["status"] = data.status.value
    if "requires_learner_confirmation" in given:
        values["requires_learner_confirmation"] = data.requires_learner_confirmation
    changed = False
    for field, value in values.items():
        if getattr(certificate, field) != value:
            setattr(certificate, field, value)
            changed = True
    return changed


def _replace_courses(session: Session, certificate: Certificate, channel_ids: list[int]) -> bool:
    current = list(
        session.scalars(
            select(CertificateCourse.channel_id)
            .where(CertificateCourse.certificate_id == certificate.id)
            .order_by(CertificateCourse.position)
        )
    )
    if current == channel_ids:
        return False
    session.execute(delete(CertificateCourse).where(CertificateCourse.certificate_id == certificate.id))
    insert_ignore(
        session,
        CertificateCourse.__table__,
        [
            {"certificate_id": certificate.id, "channel_id": channel_id, "position": position}
            for position, channel_id in enumerate(channel_ids)
        ],
    )
    return True


# --- a user's certificates ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserOutcome:
    certificate: Certificate
    outcome: rules.Outcome
    is_required: bool


CertificateFacts = tuple[Certificate, UserCertificate | None]
"""A certificate and what is recorded about it for one user, if anything."""


def _with_facts(scope: HasAccount, user_id: int) -> Select[Any]:
    """The account's certificates, each with the user's recorded facts (``None`` when none)."""
    return (
        owned(Certificate, scope)
        .add_columns(UserCertificate)
        .outerjoin(
            UserCertificate,
            and_(UserCertificate.certificate_id == Certificate.id, UserCertificate.user_id == user_id),
        )
    )


def _connected_ids(user_id: int) -> Select[Any]:
    """Ids of the certificates the user is connected to (learner of any of their courses)."""
    return select(CertificateCourse.certificate_id).where(
        CertificateCourse.channel_id.in_(enrolment.channel_ids_of_learner(user_id))
    )


def _outcomes(
    session: Session,
    scope: HasAccount,
    user: User,
    certificates: Sequence[CertificateFacts],
    *,
    now: datetime,
    warning: timedelta,
) -> list[UserOutcome]:
    """Each certificate's state for the user, from his progress in all their courses read in one
    query, whatever their number."""
    if not certificates:
        return []
    tallies: dict[int, list[performance_rules.Tally]] = defaultdict(list)
    for row in session.execute(
        select(
            CertificateCourse.certificate_id,
            *performance_service.tally_columns(scope, user.id, CertificateCourse.channel_id),
        )
        .where(CertificateCourse.certificate_id.in_([c.id for c, _ in certificates]))
        .order_by(CertificateCourse.certificate_id, CertificateCourse.position)
    ):
        tallies[row.certificate_id].append(performance_service.tally_of(row))
    outcomes = []
    for certificate, fact in certificates:
        statuses = [
            rules.CourseStatus(performance_rules.progress(tally), performance_rules.completion_date(tally))
            for tally in tallies.get(certificate.id, ())
        ]
        expiration = None
        if certificate.expiration_duration is not None and certificate.expiration_period is not None:
            expiration = (
                certificate.expiration_duration,
                rules.ExpirationPeriod(certificate.expiration_period),
            )
        outcome = rules.certificate_outcome(
            statuses,
            revoked=fact is not None and fact.revoked_at is not None,
            requires_confirmation=certificate.requires_learner_confirmation,
            confirmed=fact is not None and fact.confirmed_at is not None,
            expiration=expiration,
            now=now,
            warning=warning,
        )
        outcomes.append(UserOutcome(certificate, outcome, bool(fact and fact.is_required)))
    return outcomes


def _warning(context: AppContext) -> timedelta:
    return timedelta(days=context.settings.cert_expiry_warning_days)


def _states(
    session: Session,
    tenant: HasAccount,
    context: AppContext,
    user: User,
    certificates: Sequence[CertificateFacts],
) -> list[ExternalUserCertificateState]:
    outcomes = _outcomes(session, tenant, user, certificates, now=utcnow(), warning=_warning(context))
    return [
        ExternalUserCertificateState(
            certification_date=found.outcome.certification_date,
            expiration_date=found.outcome.expiration_date,
            external_certificate_id=found.certificate.external_id,
            is_required=found.is_required,
            name=found.certificate.name,
            pdf_url=links.pdf_url(
                context, user.link_id, found.certificate.link_id, found.outcome.certification_date
            )
            if found.outcome.certified and found.outcome.certification_date is not None
            else None,
            state=found.outcome.state,
        )
        for found in outcomes
    ]


def user_certificates(
    session: Session, tenant: HasAccount, context: AppContext, user_identifier: str
) -> list[ExternalUserCertificateState]:
    user = users_service.require_user(session, tenant, user_identifier)
    certificates = session.execute(
        _with_facts(tenant, user.id)
        .where(Certificate.id.in_(_connected_ids(user.id)))
        .order_by(Certificate.id)
    )
    return _states(
        session, tenant, context, user, [(certificate, fact) for certificate, fact in certificates]
    )


def _connected(
    session: Session, tenant: HasAccount, certificate_identifier: str, user_identifier: str
) -> tuple[Certificate, User]:
    certificate = require_certificate(session, tenant, certificate_identifier)
    user = users_service.require_user(session, tenant, user_identifier)
    linked = session.scalar(
        select(_connected_ids(user.id).where(CertificateCourse.certificate_id == certificate.id).exists())
    )
    if not linked:
        raise ItemNotExists(
            f"User {user_identifier!r} is not connected to certificate {certificate_identifier!r}: "
            "he learns in none of its courses"
        )
    return certificate, user


def _fact(session: Session, certificate: Certificate, user: User) -> UserCertificate:
    insert_ignore(
        session,
        UserCertificate.__table__,
        [{"user_id": user.id, "certificate_id": certificate.id, "is_required": False}],
    )
    fact = session.scalar(
        select(UserCertificate)
        .where(UserCertificate.user_id == user.id, UserCertificate.certificate_id == certificate.id)
        .with_for_update()
    )
    assert fact is not None
    return fact


def set_requirement(
    session: Session,
    tenant: HasAccount,
    context: AppContext,
    certificate_identifier: str,
    user_identifier: str,
    is_required: bool,
) -> ExternalUserCertificateState:
    certificate, user = _connected(session, tenant, certificate_identifier, user_identifier)
    fact = _fact(session, certificate, user)
    fact.is_required = is_required
    session.flush()
    standings.refresh(session, tenant, [certificate.id], [user.id])
    return _states(session, tenant, context, user, [(certificate, fact)])[0]


def revoke(
    session: Session,
    tenant: HasAccount,
    context: AppContext,
    certificate_identifier: str,
    user_identifier: str,
) -> ExternalUserCertificateState:
    certificate, user = _connected(session, tenant, certificate_identifier, user_identifier)
    fact = _fact(session, certificate, user)
    if fact.revoked_at is not None:
        return _states(session, tenant, context, user, [(certificate, fact)])[0]
    fact.revoked_at = utcnow()
    session.flush()
    standings.refresh(session, tenant, [certificate.id], [user.id])
    _emit_state(session, tenant, user, certificate, fact, "certificate.revoked")
    return _states(session, tenant, context, user, [(certificate, fact)])[0]


def confirm(
    session: Session,
    tenant: HasAccount,
    context: AppContext,
    certificate_identifier: str,
    user_identifier: str,
) -> ExternalUserCertificateState:
    certificate, user = _connected(session, tenant, certificate_identifier, user_identifier)
    fact = _fact(session, certificate, user)
    if fact.confirmed_at is not None:
        return _states(session, tenant, context, user, [(certificate, fact)])[0]
    fact.confirmed_at = utcnow()
    session.flush()
    standings.refresh(session, tenant, [certificate.id], [user.id])
    _emit_state(session, tenant, user, certificate, fact, "certificate.certified", held=True)
    return _states(session, tenant, context, user, [(certificate, fact)])[0]


def _emit_state(
    session: Session,
    tenant: HasAccount,
    user: User,
    certificate: Certificate,
    fact: UserCertificate,
    type: str,
    *,
    held: bool = False,
) -> None:
    """Emit ``type`` with the user's certificate as it now is (``held``: only if he holds it)."""
    from enabley.certificates.events import state_data  # that module builds on this one

    found = _outcomes(session, tenant, user, [(certificate, fact)], now=utcnow(), warning=timedelta(0))[0]
    if held and not found.outcome.certified:
        return
    log.emit(session, tenant.account_id, type, state_data(user, found))


# --- the PDF ----------------------------------------------------------------------------


def _learner_name(user: User) -> str:
    full = " ".join(part for part in (user.first_name, user.last_name) if part)
    return full or user.username or user.email or user.external_id


def certificate_document(session: Session, context: AppContext, token: str) -> pdf.CertificateDocument:
    """What the PDF behind ``token`` shows; 404 unless its learner holds that very certification
    right now.

    The learner is found by his link id, unique among all accounts; every other query is scoped
    by his account.
    """
    link = links.read_token(context, token)
    not_held = NotFound("This certificate is not held by its learner")
    user = session.scalar(select(User).where(User.link_id == link.user))
    if user is None:
        raise not_held
    scope = AccountScope(user.account_id)
    held = session.execute(
        _with_facts(scope, user.id).where(
            Certificate.link_id == link.certificate, Certificate.id.in_(_connected_ids(user.id))
        )
    ).first()
    if held is None:
        raise not_held
    certificate, fact = held
    (found,) = _outcomes(session, scope, user, [(certificate, fact)], now=utcnow(), warning=_warning(context))
    outcome = found.outcome
    if (
        not outcome.certified
        or outcome.certification_date is None
        or links.instant(outcome.certification_date) != link.certified_at
    ):
        raise not_held
    return pdf.CertificateDocument(
        learner_name=_learner_name(user),
        certificate_name=certificate.name,
        certification_date=outcome.certification_date,
        expiration_date=outcome.expiration_date,
    )


PDF_CACHE_BYTES = 32 * 1024 * 1024
"""What the rendered PDFs held by a process may weigh (a PDF weighs some ten kilobytes)."""

# Per process: see ``pdf.PdfCache``.
_PDFS = pdf.PdfCache(max_bytes=PDF_CACHE_BYTES)


def cached_pdf(document: pdf.CertificateDocument) -> bytes | None:
    """The document's PDF if this process has rendered it lately; cheap enough for the event loop."""
    return _PDFS.cached(document)


def render_pdf(document: pdf.CertificateDocument) -> bytes:
    """The document's PDF, rendered once and then held (see ``cached_pdf``). CPU-bound: run it in
    the threadpool."""
    return _PDFS.render(document)
