"""Compliance: counts and listings of the learners in scope of certificates.

Both answers are computed for ``now`` from each learner's stored standing in each certificate
(``compliance.standings``: what the state will be at any instant, kept as records are written);
the states that depend on ``now`` (expired, about to expire, expiring) are ranges of its dates.
The counts of a group's subtree come from the tallies kept per group (``compliance.tallies``)
where they serve, with what they cannot say read from the standings in the same statement.
Reusable without HTTP (the console): the tenant is anything with an ``account_id``, the
instant and the warning window are parameters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, cast, func, literal, select, tuple_, union_all
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.certificates import service as certificates_service
from enabley.certificates.rules import CertificateState
from enabley.compliance import query, tallies
from enabley.compliance.rules import Scope, Standing, StatusFilter
from enabley.compliance.schemas import (
    CertificateComplianceInfo,
    ComplianceCounts,
    ComplianceFilters,
    ComplianceLearnerInfo,
    ComplianceSummaryInfo,
    GroupComplianceInfo,
    LearnersQuery,
    SummaryQuery,
)
from enabley.db.base import HasAccount, owned
from enabley.db.columns import UtcDateTime
from enabley.db.sql import OrderedJoin
from enabley.groups import service as groups_service
from enabley.models import Certificate, CertificateCourse, Group, User, UserGroup
from enabley.pagination import Page, Walk


class Resolved:
    """The filters of a request resolved to the tenant's rows (404 for an unknown certificate or
    group, 400 for an unknown sub-account)."""

    def __init__(
        self, session: Session, tenant: HasAccount, filters: ComplianceFilters, warning_days: int
    ) -> None:
        stmt = owned(Certificate, tenant).with_only_columns(
            Certificate.id, Certificate.external_id, Certificate.name
        )
        if filters.certificate_id is not None:
            certificates_service.require_certificate(session, tenant, filters.certificate_id)
            stmt = stmt.where(Certificate.external_id == filters.certificate_id)
        self.certificates = {row.id: (row.external_id, row.name) for row in session.execute(stmt)}
        courses: dict[int, list[int]] = {certificate_id: [] for certificate_id in self.certificates}
        for certificate_id, channel_id in session.execute(
            select(CertificateCourse.certificate_id, CertificateCourse.channel_id)
            .where(CertificateCourse.certificate_id.in_(list(self.certificates)))
            .order_by(CertificateCourse.certificate_id, CertificateCourse.position)
        ):
            courses[certificate_id].append(channel_id)
        self.group: Group | None = None
        group_ids = None
        if filters.group_identifier is not None:
            self.group = groups_service.require_group(session, tenant, filters.group_identifier)
            group_ids = query.subtree_ids(session, tenant, self.group.id, filters.subtree)
        sub_account = accounts_service.resolve_sub_account(session, tenant, filters.sub_account_name)
        self.selection = query.Selection(
            certificates=courses,
            every_certificate=filters.certificate_id is None,
            group_ids=group_ids,
            sub_account_id=sub_account.id if sub_account is not None else None,
            scope=filters.scope_or_default,
        )
        self.within_days = filters.within_days if filters.within_days is not None else warning_days
        self.dialect = session.get_bind().dialect.name

    @property
    def tally_group(self) -> int:
        """The group whose compliance tallies count the pairs asked for (the account's without one)."""
        return tallies.ACCOUNT if self.group is None else self.group.id

    def instants(self, now: datetime, warning_days: int) -> query.Instants:
        return query.Instants(now, timedelta(days=warning_days), timedelta(days=self.within_days))


# --- the summary -------------------------------------------------------------------------


def _counts(found: Iterable[tuple[str, int, int]]) -> ComplianceCounts:
    """From (state, expiring, pairs) rows."""
    states = dict.fromkeys(CertificateState, 0)
    expiring = 0
    for state, is_expiring, pairs in found:
        states[CertificateState(state)] += pairs
        expiring += pairs if is_expiring else 0
    compliant = states[CertificateState.CERTIFIED] + states[CertificateState.ABOUT_TO_EXPIRE]
    total = sum(states.values())
    return ComplianceCounts(
        in_scope=total, compliant=compliant, non_compliant=total - compliant, expiring=expiring, states=states
    )


def _children(session: Session, tenant: HasAccount, parent: Group | None) -> list[Any]:
    where = Group.parent_id.is_(None) if parent is None else Group.parent_id == parent.id
    return list(
        session.execute(
            owned(Group, tenant)
            .with_only_columns(Group.id, Group.external_id, Group.name)
            .where(where)
            .order_by(Group.name, Group.external_id)
        )
    )


def _tallies_serve(session: Session, tenant: HasAccount, selection: query.Selection, subtree: bool) -> bool:
    """Whether the compliance tallies count what is asked: the required pairs of a group's subtree
    (or of the account), no sub-account, and few enough learners awaiting a recount."""
    return (
        selection.scope is Scope.REQUIRED
        and selection.sub_account_id is None
        and subtree
        and tallies.waiting(session, tenant) <= tallies.READ_LIMIT
    )


def _tallied(
    session: Session,
    tenant: HasAccount,
    resolved: Resolved,
    at: query.Instants,
    subtree: bool,
    children: list[int] | None,
) -> dict[tuple[int, int | None], list[tuple[str, int, int]]]:
    """(state, expiring, pairs) rows: overall (0, None), for each of ``children`` (1, group id) and
    for each certificate (2, certificate id).

    From the compliance tallies where they serve (scope ``required``, no sub-account, the
    subtree), with the pairs they cannot classify read from the standings in the same statement;
    else from the standings alone."""
    found: dict[tuple[int, int | None], list[tuple[str, int, int]]] = defaultdict(list)
    if not resolved.certificates:
        return found
    selection = resolved.selection
    days = None
    if _tallies_serve(session, tenant, selection, subtree):
        days = tallies.Days.of(at.now, at.warning, at.within)
        selection = replace(selection, exact=days.ranges())
    rows = query.classified(tenant, selection, at).cte("compliance").prefix_with("MATERIALIZED")
    no_int, no_day = cast(None, Integer()), cast(None, Date())

    def tally(kind: int, ref: Any, of: Any) -> Any:
        columns = (literal(kind).label("kind"), ref.label("ref"), of.c.state, of.c.expiring)
        counted = func.count().label("pairs")
        return select(*columns, counted, no_int, no_day).group_by(ref, of.c.state, of.c.expiring)

    group = resolved.group
    parts = [tally(0, no_int, rows)]
    if children is not None:
        parent = Group.parent_id.is_(None) if group is None else Group.parent_id == group.id
        by_child = query.child_members(tenant, parent, subtree, rows)
        parts.append(tally(1, by_child.c.root, by_child))
    several = len(resolved.certificates) > 1
    if several:
        parts.append(tally(2, rows.c.certificate_id, rows))
    overall = resolved.tally_group
    if days is not None:
        kept = tallies.buckets(tenant, [overall, *(children or [])], list(resolved.certificates)).subquery()
        columns = (
            kept.c.group_id,
            kept.c.unearned_state,
            no_int,
            kept.c.pairs,
            kept.c.certificate_id,
            kept.c.day,
        )
        parts.append(select(literal(3), *columns))
    for kind, ref, state, expiring, pairs, certificate_id, day in session.execute(union_all(*parts)):
        if kind != 3:
            found[kind, ref].append((state, expiring, pairs))
            continue
        assert days is not None
        bucket = days.classify(state, day)
        if bucket is None:  # a boundary day's: its pairs came from the standings
            continue
        if ref == overall:
            found[0, None].append((*bucket, pairs))
            if several:
                found[2, certificate_id].append((*bucket, pairs))
        else:
            found[1, ref].append((*bucket, pairs))
    if not several:  # its counts are the overall ones
        found[2, next(iter(resolved.certificates))] = found[0, None]
    return found


def summary(
    session: Session, tenant: HasAccount, filters: SummaryQuery, *, now: datetime, warning_days: int
) -> ComplianceSummaryInfo:
    """Counts by state and by compliant / non-compliant / expiring: overall, for each child group
    of the group (each top-level group without one) and for each certificate."""
    resolved = Resolved(session, tenant, filters, warning_days)
    children = _children(session, tenant, resolved.group)
    at = resolved.instants(now, warning_days)
    found = _tallied(session, tenant, resolved, at, filters.subtree, [row.id for row in children])
    return ComplianceSummaryInfo(
        as_of=now,
        within_days=resolved.within_days,
        overall=_counts(found[0, None]),
        groups=[
            GroupComplianceInfo(group_identifier=identifier, name=name, counts=_counts(found[1, group_id]))
            for group_id, identifier, name in children
        ],
        certificates=[
            CertificateComplianceInfo(
                external_certificate_id=identifier, name=name, counts=_counts(found[2, cid])
            )
            for cid, (identifier, name) in sorted(resolved.certificates.items(), key=lambda item: item[1][0])
        ],
    )


def expirations(
    session: Session,
    tenant: HasAccount,
    filters: SummaryQuery,
    *,
    now: datetime,
    warning_days: int,
    weeks: int,
) -> list[int]:
    """How many compliant pairs of the summary's scope end their certification in each of the next
    ``weeks`` weeks from ``now`` (week ``n``: at least ``n`` weeks and less than ``n`` + 1 away; the
    last also holds the end of the window itself).

    From the compliance tallies where they serve (each day that no week's end falls on lies in one
    week), the pairs of the other days and of the learners awaiting a recount read from the
    standings in the same statement; else from the standings alone."""
    window = SummaryQuery.model_validate({**filters.model_dump(by_alias=True), "withinDays": weeks * 7})
    resolved = Resolved(session, tenant, window, warning_days)
    counts = [0] * weeks
    if not resolved.certificates:
        return counts
    at = resolved.instants(now, warning_days)
    ends = [now + timedelta(weeks=n) for n in range(weeks + 1)]
    selection = resolved.selection
    fast = _tallies_serve(session, tenant, selection, window.subtree)
    edges: list[date] = []
    if fast:
        edges = sorted({end.astimezone(UTC).date() for end in ends})
        selection = replace(selection, exact=tallies.day_ranges(edges))
    rows = query.classified(tenant, selection, at).subquery("compliance")
    expiring = query.status_range(rows.c.due, StatusFilter.EXPIRING, at)
    assert expiring is not None
    parts: list[Any] = [select(rows.c.expiration_date, cast(None, Date()), literal(1)).where(expiring)]
    if fast:
        kept = tallies.buckets(tenant, [resolved.tally_group], list(resolved.certificates)).subquery()
        held = kept.c.unearned_state == tallies.EARNED
        parts.append(select(cast(None, UtcDateTime()), kept.c.day, kept.c.pairs).where(held))
    for due, day, pairs in session.execute(union_all(*parts)):
        if due is not None:
            counts[min(weeks - 1, max(0, (due - now).days // 7))] += pairs
        elif edges[0] < day < edges[-1] and day not in edges:
            # The day lies wholly after the ends of the weeks before it.
            counts[sum(1 for edge in edges[1:] if edge < day)] += pairs
    return counts


# --- the learners ------------------------------------------------------------------------


def group_paths(session: Session, tenant: HasAccount, user_ids: Sequence[int]) -> dict[int, list[list[str]]]:
    """Each user's groups, each as the names from its top-level group down to it."""
    memberships = session.execute(
        select(UserGroup.user_id, UserGroup.group_id)
        .where(UserGroup.user_id.in_(list(user_ids)))
        .order_by(UserGroup.user_id, UserGroup.group_id)
    ).all()
    seed = owned(Group, tenant).with_only_columns(Group.id, Group.parent_id, Group.name)
    tree = seed.where(Group.id.in_({group_id for _, group_id in memberships})).cte("path", recursive=True)
    tree = tree.union(select(Group.id, Group.parent_id, Group.name).join(tree, Group.id == tree.c.parent_id))
    groups = {row.id: (row.parent_id, row.name) for row in session.execute(select(tree))}
    paths: dict[int, list[list[str]]] = defaultdict(list)
    for user_id, group_id in memberships:
        path: list[str] = []
        at: int | None = group_id
        while at is not None and at in groups and len(path) <= len(groups):
            parent, name = groups[at]
            path.append(name)
            at = parent
        paths[user_id].append(path[::-1])
    return paths


def _standing(row: Any) -> Standing:
    if row.expiring:
        return Standing.EXPIRING
    return Standing.COMPLIANT if row.compliant else Standing.NON_COMPLIANT


def learners_page(
    session: Session,
    tenant: HasAccount,
    walk: Walk[LearnersQuery],
    *,
    now: datetime,
    warning_days: int,
) -> Page[ComplianceLearnerInfo]:
    """The learners in scope with the status asked for, ordered by expiration date (certifications
    that never end after every date, pairs not certified last), then learner, then certificate
    (each in the order they were created)."""
    filters = walk.query
    resolved = Resolved(session, tenant, filters, warning_days)
    if not resolved.certificates:
        return walk.result([], 0, lambda row: []).page([])
    at = resolved.instants(now, warning_days)
    rows = query.classified(tenant, resolved.selection, at, in_order=True).subquery("compliance")
    order = (rows.c.due, rows.c.user_id, rows.c.certificate_id)
    stmt = (
        owned(User, tenant)
        .with_only_columns(
            rows,
            User.external_id.label("user_identifier"),
            User.first_name,
            User.last_name,
            User.email,
            Certificate.external_id.label("certificate_identifier"),
            Certificate.name.label("certificate_name"),
        )
        .select_from(
            OrderedJoin(
                OrderedJoin(rows, User, User.id == rows.c.user_id),
                Certificate,
                Certificate.id == rows.c.certificate_id,
            )
        )
    )
    clause = query.status_range(rows.c.due, filters.status_or_default, at)
    if clause is not None:
        stmt = stmt.where(clause)
    total = walk.cursor.total
    if total is None:
        # The walk's first page counts it, as the summary does.
        counts = _counts(_tallied(session, tenant, resolved, at, filters.subtree, None)[0, None])
        total = {
            StatusFilter.ALL: counts.in_scope,
            StatusFilter.COMPLIANT: counts.compliant,
            StatusFilter.NON_COMPLIANT: counts.non_compliant,
            StatusFilter.EXPIRING: counts.expiring,
        }[filters.status_or_default]
    page_stmt = stmt
    if walk.cursor.after is not None:
        after_due, after_user, after_certificate = walk.cursor.after
        position = (literal(datetime.fromisoformat(after_due), UtcDateTime()), after_user, after_certificate)
        page_stmt = page_stmt.where(tuple_(*order) > tuple_(*position))
    found = list(session.execute(page_stmt.order_by(*order).limit(walk.paginator.page_size + 1)))
    page = walk.result(
        found,
        total,
        lambda row: [row.due.isoformat(), row.user_id, row.certificate_id],
    )
    paths = group_paths(session, tenant, [row.user_id for row in page.rows])
    return page.page(
        [
            ComplianceLearnerInfo(
                user_identifier=row.user_identifier,
                first_name=row.first_name,
                last_name=row.last_name,
                email=row.email,
                external_certificate_id=row.certificate_identifier,
                certificate_name=row.certificate_name,
                is_required=bool(row.is_required),
                state=CertificateState(row.state),
                status=_standing(row),
                certification_date=row.certification_date,
                expiration_date=row.expiration_date,
                group_paths=paths.get(row.user_id, []),
            )
            for row in page.rows
        ]
    )
