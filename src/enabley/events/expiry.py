"""The time-driven certificate events: ``certificate.about_to_expire`` and
``certificate.expired``, each emitted once per certification by a periodic sweep."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from enabley.certificates.events import state_data
from enabley.certificates.rules import CertificateState
from enabley.certificates.service import _outcomes
from enabley.db.base import AccountScope
from enabley.db.engine import WRITE_OPTION
from enabley.events import log
from enabley.models import (
    Certificate,
    CertificateCourse,
    CertificateNotice,
    ItemProgress,
    User,
    UserCertificate,
)

NOTICES = {
    CertificateState.ABOUT_TO_EXPIRE: "certificate.about_to_expire",
    CertificateState.EXPIRED: "certificate.expired",
}
USER_BATCH = 500


def sweep_expiries(connection: Connection, now: datetime, warning_days: int = 30) -> int:
    """Emit the expiry events due at ``now`` that were not emitted yet; answers how many. One short
    transaction per certificate (a savepoint when the caller holds a transaction open).

    A certificate that expires is looked at for the users with a completed item in one of its
    courses (no one else can hold it): each user's state is derived as the API derives it."""
    own = not connection.in_transaction()
    if own:
        connection.execution_options(**{WRITE_OPTION: True})
    ids = list(
        connection.execute(
            select(Certificate.id)
            .where(Certificate.expiration_duration.is_not(None))
            .order_by(Certificate.id)
        ).scalars()
    )
    if own:
        connection.commit()
    total = 0
    for certificate_id in ids:
        # Joins the caller's transaction through a savepoint, or begins and commits its own.
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
            total += _sweep_certificate(session, certificate_id, now, timedelta(days=warning_days))
    return total


def _sweep_certificate(session: Session, certificate_id: int, now: datetime, warning: timedelta) -> int:
    certificate = session.get(Certificate, certificate_id)
    if certificate is None:  # deleted meanwhile
        return 0
    scope = AccountScope(certificate.account_id)
    courses = select(CertificateCourse.channel_id).where(CertificateCourse.certificate_id == certificate_id)
    candidates = (
        select(ItemProgress.user_id)
        .where(ItemProgress.channel_id.in_(courses), ItemProgress.completed.is_(True))
        .distinct()
    )
    user_ids = list(session.scalars(candidates))
    emitted = 0
    for start in range(0, len(user_ids), USER_BATCH):
        batch = user_ids[start : start + USER_BATCH]
        facts = {
            fact.user_id: fact
            for fact in session.scalars(
                select(UserCertificate).where(
                    UserCertificate.certificate_id == certificate_id, UserCertificate.user_id.in_(batch)
                )
            )
        }
        noticed = {
            (n.user_id, n.type): n
            for n in session.scalars(
                select(CertificateNotice).where(
                    CertificateNotice.certificate_id == certificate_id, CertificateNotice.user_id.in_(batch)
                )
            )
        }
        for user in session.scalars(select(User).where(User.id.in_(batch)).order_by(User.id)):
            found = _outcomes(
                session, scope, user, [(certificate, facts.get(user.id))], now=now, warning=warning
            )[0]
            type_ = NOTICES.get(found.outcome.state)
            certified_at = found.outcome.certification_date
            if type_ is None or certified_at is None:
                continue
            notice = noticed.get((user.id, type_))
            if notice is not None and notice.certified_at == certified_at:
                continue
            if notice is None:
                session.add(
                    CertificateNotice(
                        user_id=user.id, certificate_id=certificate_id, type=type_, certified_at=certified_at
                    )
                )
            else:
                notice.certified_at = certified_at
            log.emit(session, certificate.account_id, type_, state_data(user, found))
            emitted += 1
    return emitted
