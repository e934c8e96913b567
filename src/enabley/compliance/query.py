"""The SQL of compliance, following ``certificates.rules`` and ``compliance.rules``.

Two parts. ``certified`` derives many pairs' standings at once, for ``compliance.standings`` to
keep: each pair's progress tallied per course by one grouped join over the item progress index,
then the state when the certificate is not earned and the certification and expiration dates,
computed by the database (the expiration a calendar shift of months or days that keeps a month's
end in range, as ``certificates.rules.add_period`` does). ``classified`` reads the kept standings
of the pairs in scope and classifies them against ``now``: what depends on it (expired, about to
expire, expiring) is a comparison of dates, and every listing's status a range of ``due``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CTE, Subquery

from enabley.certificates.rules import CertificateState
from enabley.channels import enrolment
from enabley.compliance import tallies
from enabley.compliance.rules import NOT_CERTIFIED, Scope, StatusFilter
from enabley.db.base import AnySelect, HasAccount, owned
from enabley.db.columns import UtcDateTime
from enabley.db.sql import unindexed
from enabley.models import (
    Certificate,
    CertificateCourse,
    CertificateStanding,
    ChannelItem,
    Group,
    ItemProgress,
    UserCertificate,
    UserGroup,
    UserSubAccount,
)
from enabley.performance.rules import ITEM_KINDS

S = CertificateState


@dataclass(frozen=True, slots=True)
class Selection:
    """What to classify, resolved to the tenant's rows."""

    certificates: dict[int, list[int]]
    """The certificates' ids, each with its courses' channel ids."""
    every_certificate: bool
    """``certificates`` are all of the account's."""
    group_ids: list[int] | None
    """The groups whose members are asked for (a group, and its descendants with ``recursive``);
    None: every learner."""
    sub_account_id: int | None
    scope: Scope
    exact: list[tuple[datetime, datetime]] | None = None
    """Only the pairs whose ``due`` falls in one of these ranges, or whose learner awaits a
    recount of the compliance tallies (what a read adds to the tallies, ``compliance.tallies``);
    with ``scope=required`` only."""


@dataclass(frozen=True, slots=True)
class Instants:
    now: datetime
    warning: timedelta
    """ABOUT_TO_EXPIRE this close to the expiration (ENABLEY_CERT_EXPIRY_WARNING_DAYS)."""
    within: timedelta
    """Expiring this close to the expiration (``withinDays``)."""


def subtree(seed: AnySelect, name: str) -> CTE:
    """(root, group_id): every group under each seed group (``seed`` selects ``root`` and
    ``group_id``, equal), the seed itself included. UNION stops at groups already seen."""
    tree = seed.cte(name, recursive=True)
    return tree.union(select(tree.c.root, Group.id).join(tree, Group.parent_id == tree.c.group_id))


def subtree_ids(session: Session, tenant: HasAccount, group_id: int, recursive: bool) -> list[int]:
    """The ids of the tenant's group and, with ``recursive``, of every group under it. Read once,
    so that the statements that use them probe a list rather than walk the tree for every row."""
    seed = owned(Group, tenant).with_only_columns(Group.id.label("root"), Group.id.label("group_id"))
    seed = seed.where(Group.id == group_id)
    if not recursive:
        return list(session.scalars(seed.with_only_columns(Group.id)))
    tree = subtree(seed, "compliance_tree")
    return list(session.scalars(select(tree.c.group_id)))


def child_members(tenant: HasAccount, parents: ColumnElement[bool], recursive: bool, rows: CTE) -> Subquery:
    """(root, user_id, certificate_id, state, expiring) of the ``rows`` whose learner is a member
    of a group matching ``parents`` (its root), or with ``recursive`` of a group under it, once
    per root."""
    seed = owned(Group, tenant).with_only_columns(Group.id.label("root"), Group.id.label("group_id"))
    tree = subtree(seed.where(parents), "compliance_children") if recursive else seed.where(parents).cte()
    return (
        select(tree.c.root, rows.c.user_id, rows.c.certificate_id, rows.c.state, rows.c.expiring)
        .select_from(rows)
        .join(UserGroup, UserGroup.user_id == rows.c.user_id)
        .join(tree, tree.c.group_id == UserGroup.group_id)
        .distinct()
        .subquery("child_members")
    )


def _pairs(tenant: HasAccount, selection: Selection) -> Subquery:
    """With ``scope=all``: (user_id, certificate_id) of the pairs in scope, each once, before the
    user filters."""
    ids = list(selection.certificates)
    required = select(UserCertificate.user_id, UserCertificate.certificate_id).where(
        UserCertificate.certificate_id.in_(ids), UserCertificate.is_required.is_(True)
    )
    parts: list[AnySelect] = [required]
    if len(ids) == 1 and len(selection.certificates[ids[0]]) == 1:
        # One certificate of one course: its learners, by the index of its enrolments.
        learners = enrolment.learner_ids(selection.certificates[ids[0]][0]).subquery()
        parts.append(select(learners.c.user_id, literal(ids[0]).label("certificate_id")))
    else:
        learning = enrolment.learner_pairs(tenant)
        parts.append(
            select(learning.c.user_id, CertificateCourse.certificate_id)
            .join(CertificateCourse, CertificateCourse.channel_id == learning.c.channel_id)
            .where(CertificateCourse.certificate_id.in_(ids))
        )
    return union(*parts).subquery("compliance_pairs")


def _standings(tenant: HasAccount, selection: Selection, in_order: bool) -> Subquery:
    """The pairs in scope that pass the user filters, each with its stored standing
    (``compliance.standings``): user_id, certificate_id, is_required, unearned_state,
    certification_date, expiration_date, due. A pair without a row is INIT."""
    kept = CertificateStanding
    ids = list(selection.certificates)
    if selection.scope is Scope.REQUIRED:
        # The required pairs all have a row (the requirement is a record): read alone, by index,
        # the certificates' (the tenant's, resolved). A listing of all the account's certificates
        # walks the account's index instead, which is its order (sought certificate by
        # certificate, its rows would be sorted after).
        columns = (
            kept.user_id,
            kept.certificate_id,
            kept.is_required,
            kept.unearned_state,
            kept.certification_date,
            kept.expiration_date,
            kept.due,
        )
        if in_order and selection.every_certificate:
            stmt = owned(kept, tenant).with_only_columns(*columns)
        else:
            stmt = select(*columns).where(kept.certificate_id.in_(ids))
        stmt = stmt.where(kept.is_required.is_(True))
        user_id: Any = kept.user_id
        if selection.exact is not None:
            # Each day by the (certificate, due) index, the marked learners' other pairs by the
            # primary key: one index range each, not a filter over every pair.
            days = [and_(kept.due >= start, kept.due < end) for start, end in selection.exact]
            parts = [stmt.where(day) for day in days]
            parts.append(stmt.where(kept.user_id.in_(tallies.marked(tenant)), *(~day for day in days)))
            exact = union_all(*parts).subquery("compliance_exact")
            stmt, user_id = select(exact), exact.c.user_id
    else:
        pairs = _pairs(tenant, selection)
        stmt = (
            select(
                pairs.c.user_id,
                pairs.c.certificate_id,
                func.coalesce(kept.is_required, false()).label("is_required"),
                # No row: nothing recorded, INIT (a row's NULL is a certificate earned).
                case((kept.user_id.is_(None), S.INIT.value), else_=kept.unearned_state).label(
                    "unearned_state"
                ),
                kept.certification_date,
                kept.expiration_date,
                type_coerce(
                    func.coalesce(kept.due, literal(NOT_CERTIFIED, UtcDateTime())), UtcDateTime()
                ).label("due"),
            )
            .select_from(pairs)
            .outerjoin(
                kept,
                and_(kept.user_id == pairs.c.user_id, kept.certificate_id == pairs.c.certificate_id),
            )
        )
        user_id = pairs.c.user_id
    if selection.group_ids is not None:
        # On SQLite, the learner's few memberships by the primary key's user_id, each checked
        # against the list: as an index term, it would seek (user_id, group_id) once per listed
        # group. PostgreSQL hashes the groups' members, found by their own index.
        member = select(UserGroup.user_id).where(
            UserGroup.user_id == user_id, unindexed(UserGroup.group_id).in_(selection.group_ids)
        )
        stmt = stmt.where(member.exists())
    if selection.sub_account_id is not None:
        within = select(UserSubAccount.user_id).where(
            UserSubAccount.user_id == user_id, UserSubAccount.sub_account_id == selection.sub_account_id
        )
        stmt = stmt.where(within.exists())
    return stmt.subquery("compliance_population")


def _course_tallies(tenant: HasAccount, pop: Subquery, channels: list[int]) -> Subquery:
    """Per pair of ``pop`` (user_id, certificate_id, is_required, revoked_at, confirmed_at) and
    course: the course's required items, how many the learner completed, and the last completion
    among them. A certificate without courses keeps one row, course NULL. ``channels``: the
    certificates' courses."""
    required = (
        owned(ChannelItem, tenant)
        .with_only_columns(ChannelItem.channel_id, func.count().label("required_items"))
        .where(
            ChannelItem.channel_id.in_(channels),
            ChannelItem.optional.is_(False),
            ChannelItem.kind.in_(ITEM_KINDS),
        )
        .group_by(ChannelItem.channel_id)
        .subquery("required_items")
    )
    counted = and_(ChannelItem.optional.is_(False), ChannelItem.kind.in_(ITEM_KINDS))
    return (
        select(
            pop.c.user_id,
            pop.c.certificate_id,
            # One value per pair: aggregated rather than grouped on, a narrower key to sort or hash.
            func.max(case((pop.c.is_required, 1), else_=0)).label("is_required"),
            func.max(pop.c.revoked_at).label("revoked_at"),
            func.max(pop.c.confirmed_at).label("confirmed_at"),
            CertificateCourse.channel_id,
            func.coalesce(func.max(required.c.required_items), 0).label("required_items"),
            func.count(ChannelItem.id).label("completed"),
            func.max(case((ChannelItem.id.is_not(None), ItemProgress.completed_at))).label("last"),
        )
        .select_from(pop)
        .outerjoin(CertificateCourse, CertificateCourse.certificate_id == pop.c.certificate_id)
        .outerjoin(required, required.c.channel_id == CertificateCourse.channel_id)
        .outerjoin(
            ItemProgress,
            and_(
                ItemProgress.user_id == pop.c.user_id,
                ItemProgress.channel_id == CertificateCourse.channel_id,
                # Spelled out: the progress of the certificates' courses only, by its index.
                ItemProgress.channel_id.in_(channels),
                ItemProgress.completed.is_(True),
            ),
        )
        .outerjoin(ChannelItem, and_(ChannelItem.id == ItemProgress.item_id, counted))
        .group_by(
            pop.c.user_id,
            pop.c.certificate_id,
            CertificateCourse.channel_id,
        )
        .subquery("course_tallies")
    )


def certified(dialect: str, tenant: HasAccount, pop: Subquery, channels: list[int]) -> Subquery:
    """Per pair: the state when the certificate is not earned (``unearned_state``), else NULL; the
    certification and expiration dates once earned. Courses started and complete follow
    ``performance.rules``' progress and completion.

    Computed by the grouping statement itself: SQLite materialises it, so the expiration's date
    arithmetic runs once per pair, not once per reference to it."""
    t = _course_tallies(tenant, pop, channels)
    started = and_(t.c.required_items > 0, t.c.completed * 100 >= t.c.required_items)
    complete = and_(t.c.required_items > 0, t.c.completed >= t.c.required_items)
    courses = func.count(t.c.channel_id)
    started_courses = func.sum(case((started, 1), else_=0))
    complete_courses = func.sum(case((complete, 1), else_=0))
    revoked, confirmed = t.c.revoked_at, t.c.confirmed_at
    earned = and_(
        revoked.is_(None),
        courses > 0,
        complete_courses == courses,
        or_(Certificate.requires_learner_confirmation.is_(False), confirmed.is_not(None)),
    )
    unearned = case(
        (revoked.is_not(None), S.REVOKED.value),
        (or_(courses == 0, started_courses == 0), S.INIT.value),
        (complete_courses < courses, S.IN_PROGRESS.value),
        (~earned, S.AWAITS_LEARNER_CONFIRMATION.value),
        else_=None,
    )
    certification = type_coerce(case((earned, func.max(t.c.last))), UtcDateTime())
    duration, period = Certificate.expiration_duration, Certificate.expiration_period
    return (
        select(
            t.c.user_id,
            t.c.certificate_id,
            t.c.is_required,
            unearned.label("unearned_state"),
            certification.label("certification_date"),
            expiration(dialect, certification, duration, period).label("expiration_date"),
        )
        .join(Certificate, Certificate.id == t.c.certificate_id)
        .group_by(
            t.c.user_id,
            t.c.certificate_id,
            t.c.is_required,
            revoked,
            confirmed,
            Certificate.requires_learner_confirmation,
            duration,
            period,
        )
        .subquery("certifications")
    )


def expiration(dialect: str, start: Any, duration: Any, period: Any) -> ColumnElement[datetime]:
    """``start`` plus ``duration`` days, months or years, a month's end kept in range (January 31
    plus one month is the last day of February), NULL for a certificate that never expires."""
    months = case((period == "YEAR", duration * 12), (period == "MONTH", duration), else_=0)
    days = case((period == "DAY", duration), else_=0)
    if dialect == "postgresql":
        # Interval arithmetic on the UTC wall clock: PostgreSQL keeps a month's end in range itself.
        shifted: Any = func.timezone(
            "UTC", func.timezone("UTC", start) + func.make_interval(0, months, 0, days)
        )
    else:
        # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' and carries a day past a month's end into the
        # next month: a day that changed went past the end, which becomes the end.
        day, clock = func.substr(start, 1, 10), func.substr(start, 11)
        moved = func.date(day, func.printf("%+d months", months))
        in_range = case(
            (func.substr(moved, 9, 2) == func.substr(day, 9, 2), moved),
            else_=func.date(moved, "start of month", "-1 day"),
        )
        shifted = type_coerce(func.date(in_range, func.printf("%+d days", days)), String()).concat(clock)
    never = or_(duration.is_(None), period.is_(None), start.is_(None))
    return type_coerce(case((never, None), else_=shifted), UtcDateTime())


def classified(
    tenant: HasAccount, selection: Selection, at: Instants, *, in_order: bool = False
) -> AnySelect:
    """Per pair in scope: user_id, certificate_id, is_required, state, certification_date,
    expiration_date, compliant and expiring (booleans as 0/1), and ``due`` (the listings' order;
    ``in_order``: read in that order)."""
    inner = _standings(tenant, selection, in_order)
    due = inner.c.expiration_date
    state = case(
        (inner.c.unearned_state.is_not(None), inner.c.unearned_state),
        (due.is_(None), S.CERTIFIED.value),
        (due <= literal(at.now, UtcDateTime()), S.EXPIRED.value),
        (due <= literal(at.now + at.warning, UtcDateTime()), S.ABOUT_TO_EXPIRE.value),
        else_=S.CERTIFIED.value,
    )
    holds = and_(inner.c.unearned_state.is_(None), or_(due.is_(None), due > literal(at.now, UtcDateTime())))
    expiring = and_(holds, due <= literal(at.now + at.within, UtcDateTime()))
    return select(
        inner.c.user_id,
        inner.c.certificate_id,
        inner.c.is_required,
        state.label("state"),
        inner.c.certification_date,
        due.label("expiration_date"),
        case((holds, 1), else_=0).label("compliant"),
        case((expiring, 1), else_=0).label("expiring"),
        inner.c.due,
    )


def status_range(due: Any, status: StatusFilter, at: Instants) -> ColumnElement[bool] | None:
    """The filter of a listing on ``status`` (``compliance.rules.matches``) as ranges of the stored
    ``due`` (a far-future date when the certificate is not held), which its index serves; None
    for ALL."""
    now, unheld = literal(at.now, UtcDateTime()), literal(NOT_CERTIFIED, UtcDateTime())
    if status is StatusFilter.EXPIRING:
        return and_(due > now, due <= literal(at.now + at.within, UtcDateTime()))
    if status is StatusFilter.COMPLIANT:
        return and_(due > now, due < unheld)
    if status is StatusFilter.NON_COMPLIANT:
        return or_(due <= now, due == unheld)
    return None


def status_clause(rows: Subquery | CTE, status: StatusFilter) -> ColumnElement[bool] | None:
    """The filter of a listing on ``status`` (``compliance.rules.matches``), None for ALL."""
    if status is StatusFilter.EXPIRING:
        return rows.c.expiring == 1
    if status is StatusFilter.COMPLIANT:
        return rows.c.compliant == 1
    if status is StatusFilter.NON_COMPLIANT:
        return rows.c.compliant == 0
    return None
