"""Each learner's standing in each certificate, kept in ``certificate_standings`` as records are
written, so that compliance answers read dates instead of deriving them from every course's
progress.

One definition: a standing is what ``query.certified`` derives from the records (the same SQL
that classified every pair at read time before), run for the pairs a write touched, in the
write's transaction. The writes that call ``refresh``:

- a learner's progress (``performance.service``: activity, force-complete): his pairs with the
  certificates of that course (``refresh_course``);
- a certificate's settings or courses (``certificates.service.upsert_certificate``) and a course's
  items (``channels.items``: an item added, removed or made optional changes every learner's
  completion of it): every pair of those certificates;
- what is recorded about one learner and certificate (required, revoked, confirmed): that pair.

Deletions follow by the foreign keys' cascades. ``refresh_account`` recomputes a whole account
(the migration that added the table, and data written around the services, as the benchmarks'
generator does). A refresh also marks, for the compliance tallies' recount (``tallies``), the
learners it recomputed who are counted or required.

Concurrency (PostgreSQL, READ COMMITTED): a refresh computes from what its statement sees, so two
writes must not each compute without the other's change and store the older answer last. Before
computing, a refresh locks what it recomputes: the certificates' rows (shared for a learner's
pairs, exclusive for a whole certificate) and the pairs' own rows. Its computing statement then
starts after any conflicting write committed, and sees it. SQLite has one writer at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, case, false, func, literal, select, true, union
from sqlalchemy.orm import Session

from enabley.compliance import query, tallies
from enabley.compliance.rules import NEVER_ENDS, NOT_CERTIFIED
from enabley.db.base import HasAccount, owned
from enabley.db.columns import UtcDateTime
from enabley.db.engine import WRITE_OPTION
from enabley.db.sql import insert_ignore
from enabley.models import Certificate, CertificateCourse, CertificateStanding, ItemProgress, UserCertificate

_COLUMNS = (
    "account_id",
    "user_id",
    "certificate_id",
    "is_required",
    "unearned_state",
    "certification_date",
    "expiration_date",
    "due",
)


def _locking(session: Session) -> bool:
    return (
        session.get_bind().dialect.name == "postgresql"
        and session.connection().get_execution_options().get(WRITE_OPTION, False)
    )


def _courses(session: Session, certificate_ids: Sequence[int]) -> list[int]:
    return sorted(
        set(
            session.scalars(
                select(CertificateCourse.channel_id).where(
                    CertificateCourse.certificate_id.in_(certificate_ids)
                )
            )
        )
    )


def _certificates(session: Session, tenant: HasAccount, which: ColumnElement[bool]) -> list[int]:
    """The ids of the tenant's certificates ``which`` selects, in id order (the locks' order)."""
    return list(
        session.scalars(
            owned(Certificate, tenant).with_only_columns(Certificate.id).where(which).order_by(Certificate.id)
        )
    )


def refresh(
    session: Session,
    tenant: HasAccount,
    certificate_ids: Iterable[int],
    user_ids: Sequence[int] | None = None,
) -> None:
    """Recompute the stored standings of the tenant's ``certificate_ids`` for ``user_ids`` (every
    learner with a record when None), in the session's transaction."""
    wanted = list(certificate_ids)
    if wanted:
        _refresh(session, tenant, _certificates(session, tenant, Certificate.id.in_(wanted)), user_ids)


def refresh_course(
    session: Session, tenant: HasAccount, channel_id: int, user_ids: Sequence[int] | None = None
) -> None:
    """``refresh`` of the tenant's certificates that the course counts towards."""
    counted = select(CertificateCourse.certificate_id).where(CertificateCourse.channel_id == channel_id)
    _refresh(session, tenant, _certificates(session, tenant, Certificate.id.in_(counted)), user_ids)


def refresh_account(session: Session, tenant: HasAccount, *, tallied: bool = True) -> None:
    """Recompute every standing of the account, one certificate at a time. ``tallied``: mark the
    learners for the compliance tallies' recount (False before the tallies existed)."""
    for certificate_id in _certificates(session, tenant, true()):
        _refresh(session, tenant, [certificate_id], None, tallied=tallied)


def _refresh(
    session: Session,
    tenant: HasAccount,
    ids: list[int],
    user_ids: Sequence[int] | None,
    *,
    tallied: bool = True,
) -> None:
    """``refresh`` of ``ids``, the tenant's certificates (in id order)."""
    if not ids:
        return
    users = None if user_ids is None else sorted(set(user_ids))
    if _locking(session):
        # Shared for one learner's pairs (learners' writes run side by side), exclusive for a
        # whole certificate; always in id order.
        lock = select(Certificate.id).where(Certificate.id.in_(ids)).order_by(Certificate.id)
        session.execute(lock.with_for_update(read=users is not None))
        if users is not None:
            # The pairs' own rows, made first if missing: two writes about one learner queue here.
            insert_ignore(
                session,
                CertificateStanding.__table__,
                [_placeholder(tenant, user, certificate) for user in users for certificate in ids],
            )
            session.execute(
                select(CertificateStanding.user_id)
                .where(CertificateStanding.user_id.in_(users), CertificateStanding.certificate_id.in_(ids))
                .order_by(CertificateStanding.user_id, CertificateStanding.certificate_id)
                .with_for_update()
            )
    _store(session, tenant, ids, users, tallied=tallied)


def _placeholder(tenant: HasAccount, user_id: int, certificate_id: int) -> dict[str, object]:
    return {
        "account_id": tenant.account_id,
        "user_id": user_id,
        "certificate_id": certificate_id,
        "is_required": False,
        "unearned_state": "INIT",
        "certification_date": None,
        "expiration_date": None,
        "due": NOT_CERTIFIED,
    }


def _store(
    session: Session, tenant: HasAccount, ids: list[int], users: list[int] | None, *, tallied: bool
) -> None:
    """Replace the standings of the pairs of ``ids`` x ``users``: a row for every pair with a record
    (what is recorded about it, or completed progress in one of its courses); the others are
    INIT, never certified, and have none."""
    channels = _courses(session, ids)
    facts = select(UserCertificate.user_id, UserCertificate.certificate_id).where(
        UserCertificate.certificate_id.in_(ids)
    )
    parts = [facts]
    if channels:
        parts.append(
            select(ItemProgress.user_id, CertificateCourse.certificate_id)
            .join(CertificateCourse, CertificateCourse.channel_id == ItemProgress.channel_id)
            .where(
                CertificateCourse.certificate_id.in_(ids),
                ItemProgress.channel_id.in_(channels),
                ItemProgress.completed.is_(True),
            )
        )
    if users is not None:
        parts = [part.where(part.selected_columns[0].in_(users)) for part in parts]
    pairs = union(*parts).subquery("standing_pairs")
    pop = (
        select(
            pairs.c.user_id,
            pairs.c.certificate_id,
            func.coalesce(UserCertificate.is_required, false()).label("is_required"),
            UserCertificate.revoked_at,
            UserCertificate.confirmed_at,
        )
        .select_from(pairs)
        .outerjoin(
            UserCertificate,
            and_(
                UserCertificate.user_id == pairs.c.user_id,
                UserCertificate.certificate_id == pairs.c.certificate_id,
            ),
        )
        .subquery("standing_population")
    )
    found = query.certified(session.get_bind().dialect.name, tenant, pop, channels)
    due = case(
        (found.c.unearned_state.is_not(None), literal(NOT_CERTIFIED, UtcDateTime())),
        (found.c.expiration_date.is_(None), literal(NEVER_ENDS, UtcDateTime())),
        else_=found.c.expiration_date,
    )
    rows = select(
        literal(tenant.account_id).label("account_id"),
        found.c.user_id,
        found.c.certificate_id,
        case((found.c.is_required == 1, True), else_=False).label("is_required"),
        found.c.unearned_state,
        found.c.certification_date,
        found.c.expiration_date,
        due.label("due"),
    )
    table = cast(Table, CertificateStanding.__table__)
    gone = table.delete().where(table.c.certificate_id.in_(ids))
    if users is not None:
        gone = gone.where(table.c.user_id.in_(users))
    session.execute(gone)
    session.execute(table.insert().from_select(list(_COLUMNS), rows))
    if not tallied:
        return
    # The compliance tallies recount the learners counted before or required now.
    required = select(table.c.user_id).where(table.c.certificate_id.in_(ids), table.c.is_required.is_(True))
    if users is not None:
        required = required.where(table.c.user_id.in_(users))
    tallies.mark(session, tenant, union(required, tallies.counted_users(tenant, users, ids)))
