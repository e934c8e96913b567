"""The compliance tallies (``compliance.tallies``) give the summary (and the console's expirations
per week) the standings give, whatever
was written and whatever the worker has recounted so far: certificates earned, required,
revoked; memberships added and removed; groups moved and deleted; users deleted; recounts of a
few learners at a time in between. The summary read from the tallies equals the summary
computed from the standings alone, at instants on and around the expirations (the boundary
days), and the tallies are always the sum of the contributions."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from enabley import migrate
from enabley.certificates import service as certificates_service
from enabley.compliance import service as compliance_service
from enabley.compliance import standings, tallies
from enabley.compliance.schemas import LearnersQuery, SummaryQuery
from enabley.db.base import AccountScope
from enabley.db.columns import utcnow
from enabley.db.database import Database
from enabley.db.engine import make_engine
from enabley.errors import AppError
from enabley.models import (
    Account,
    Certificate,
    CertificateStanding,
    ComplianceContribution,
    ComplianceLearner,
    ComplianceTally,
    Group,
    User,
    UserCertificate,
    UserGroup,
)
from tests import factories
from tests.compliance.test_standings import COURSES, ITEMS, _apply

USERS = ["u1", "u2", "u3", "u4"]
GROUPS = ["g1", "g2", "g3", "g4"]
EXAMPLES = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("activity"),
            st.sampled_from(USERS),
            st.sampled_from(COURSES),
            st.sampled_from(ITEMS[:2]),
            st.just(True),
            st.integers(0, 400),
        ),
        st.tuples(st.just("require"), st.sampled_from(["k1", "k2"]), st.sampled_from(USERS), st.booleans()),
        st.tuples(st.just("revoke"), st.sampled_from(["k1", "k2"]), st.sampled_from(USERS)),
        st.tuples(st.just("join"), st.sampled_from(USERS), st.sampled_from(GROUPS)),
        st.tuples(st.just("leave"), st.sampled_from(USERS), st.sampled_from(GROUPS)),
        st.tuples(st.just("move"), st.sampled_from(GROUPS), st.sampled_from([None, *GROUPS])),
        st.tuples(st.just("delete_group"), st.sampled_from(GROUPS)),
        st.tuples(st.just("delete_user"), st.sampled_from(USERS)),
        st.tuples(st.just("recount"), st.integers(1, 3)),
    ),
    max_size=16,
)


def _ids(db: Session, account: Account, model: Any) -> dict[str, int]:
    rows = db.execute(select(model.external_id, model.id).where(model.account_id == account.id))
    return {name: id_ for name, id_ in rows}


def _org(db: Session, account: Account, op: tuple[Any, ...]) -> None:
    """A write to the organisation, as plain SQL (the triggers see every door's writes alike)."""
    kind, *args = op
    users, groups = _ids(db, account, User), _ids(db, account, Group)
    if kind == "join" and args[0] in users and args[1] in groups:
        exists = db.get(UserGroup, (users[args[0]], groups[args[1]]))
        if exists is None:
            db.add(UserGroup(user_id=users[args[0]], group_id=groups[args[1]]))
    elif kind == "leave" and args[0] in users and args[1] in groups:
        db.execute(
            delete(UserGroup).where(
                UserGroup.user_id == users[args[0]], UserGroup.group_id == groups[args[1]]
            )
        )
    elif kind == "move" and args[0] in groups and (args[1] is None or args[1] in groups):
        moved, parent = groups[args[0]], groups.get(args[1]) if args[1] else None
        if parent is not None and moved in _ancestors(db, parent):
            return  # a cycle
        db.execute(update(Group).where(Group.id == moved).values(parent_id=parent))
    elif kind == "delete_group" and args[0] in groups:
        gone = groups[args[0]]
        db.execute(update(Group).where(Group.parent_id == gone).values(parent_id=None))
        db.execute(delete(Group).where(Group.id == gone))
    elif kind == "delete_user" and args[0] in users:
        db.execute(delete(User).where(User.id == users[args[0]]))
    elif kind == "recount":
        tallies.recount_waiting(db, limit=args[0])
    db.flush()


def _ancestors(db: Session, group_id: int) -> set[int]:
    found: set[int] = set()
    at: int | None = group_id
    while at is not None and at not in found:
        found.add(at)
        at = db.scalar(select(Group.parent_id).where(Group.id == at))
    return found


def _summaries(db: Session, account: Account, context: Any, now: Any, within: int, group: str | None) -> Any:
    query = SummaryQuery.model_validate(
        {"withinDays": within, **({"groupIdentifier": group} if group else {})}
    )
    warning = context.settings.cert_expiry_warning_days
    return compliance_service.summary(db, account, query, now=now, warning_days=warning).model_dump()


def _weeks(db: Session, account: Account, context: Any, now: Any, group: str | None) -> list[int]:
    query = SummaryQuery.model_validate({"groupIdentifier": group} if group else {})
    warning = context.settings.cert_expiry_warning_days
    return compliance_service.expirations(db, account, query, now=now, warning_days=warning, weeks=12)


def _check(db: Session, account: Account, context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The tallies are the sum of the contributions.
    t, c = ComplianceTally, ComplianceContribution
    kept = Counter(
        {
            tuple(row[:-1]): row[-1]
            for row in db.execute(select(t.group_id, t.certificate_id, t.unearned_state, t.day, t.pairs))
            if row[-1]
        }
    )
    summed = Counter(
        {
            tuple(row[:-1]): row[-1]
            for row in db.execute(
                select(c.group_id, c.certificate_id, c.unearned_state, c.day, func.count()).group_by(
                    c.group_id, c.certificate_id, c.unearned_state, c.day
                )
            )
        }
    )
    assert kept == summed
    # The summary from the tallies is the summary from the standings, on and around the days.
    dues = [
        d
        for d in db.scalars(
            select(CertificateStanding.due).where(CertificateStanding.expiration_date.is_not(None))
        )
    ]
    instants = [utcnow()]
    for due in dues[:2]:
        instants += [due, due - timedelta(microseconds=1), due - timedelta(days=7)]
    groups = [None, *(name for name in GROUPS if name in _ids(db, account, Group))]
    for now, group, within in itertools.product(instants, groups[:3], (0, 7)):
        fast = _summaries(db, account, context, now, within, group)
        with monkeypatch.context() as patched:
            patched.setattr(tallies, "READ_LIMIT", -1)  # the standings alone
            slow = _summaries(db, account, context, now, within, group)
        assert fast == slow, (now, group, within)
    # The console's expirations per week, on and around the ends of the weeks.
    ends = [due - timedelta(weeks=n) for due in dues[:2] for n in (0, 1, 11, 12)]
    for now, group in itertools.product([utcnow(), *ends], groups[:2]):
        fast_weeks = _weeks(db, account, context, now, group)
        with monkeypatch.context() as patched:
            patched.setattr(tallies, "READ_LIMIT", -1)
            assert fast_weeks == _weeks(db, account, context, now, group), (now, group)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_the_tallies_summarise_as_the_standings_do(db, http, context, monkeypatch, ops):
    account = factories.make_account(db, f"tallies-{next(EXAMPLES)}")
    g1 = factories.make_group(db, account, "g1")
    g2 = factories.make_group(db, account, "g2", parent=g1)
    factories.make_group(db, account, "g3", parent=g2)
    factories.make_group(db, account, "g4")
    courses = {name: factories.make_channel(db, account, name) for name in COURSES}
    for n, name in enumerate(USERS):
        user = factories.make_user(db, account, name)
        factories.add_to_group(db, user.id, [g1, g2][n % 2])
        for course in courses.values():
            factories.enrol_user(db, course, user)
    for course in COURSES:
        for item in ITEMS[:2]:
            _apply(db, account, context, ("put_item", course, item, False))
    _apply(db, account, context, ("put_certificate", "k1", ["c1"], (1, "YEAR"), False))
    _apply(db, account, context, ("put_certificate", "k2", ["c2"], (30, "DAY"), False))
    for user in USERS[:3]:
        _apply(db, account, context, ("require", "k1", user, True))
    tallies.recount_waiting(db)
    for op in ops:
        try:
            with db.begin_nested():
                if op[0] in {"activity", "require", "revoke"}:
                    _apply(db, account, context, op)
                else:
                    _org(db, account, op)
        except AppError:
            pass  # refused (a deleted learner, say): nothing was written
    _check(db, account, context, monkeypatch)
    # Once every mark is recounted, the contributions are what the standings and groups say.
    while tallies.recount_waiting(db):
        pass
    assert (
        db.scalar(select(func.count()).select_from(ComplianceLearner).where(ComplianceLearner.waiting)) == 0
    )
    before = {tuple(row) for row in db.execute(select(ComplianceContribution.__table__))}
    with db.begin_nested() as savepoint:
        tallies.recount_account(db, account)
        assert {tuple(row) for row in db.execute(select(ComplianceContribution.__table__))} == before
        savepoint.rollback()
    _check(db, account, context, monkeypatch)


def test_each_door_marks_the_learners_it_moves(db, context):
    """Memberships added and removed, a group moved or deleted, a user deleted: the learners
    counted are marked for a recount; learners not counted, and a group renamed, mark nobody."""
    account = factories.make_account(db, "tallies-doors")
    top = factories.make_group(db, account, "top")
    team = factories.make_group(db, account, "team", parent=top)
    other = factories.make_group(db, account, "other")
    counted = factories.make_user(db, account, "counted")
    free = factories.make_user(db, account, "free")
    factories.enrol_user(db, factories.make_channel(db, account, "c1"), counted)
    _apply(db, account, context, ("put_certificate", "k1", ["c1"], None, False))
    factories.add_to_group(db, counted.id, team)
    factories.add_to_group(db, free.id, team)
    certificates_service.set_requirement(db, account, context, "k1", "counted", True)
    assert tallies.recount_waiting(db) == 1

    def after(step: Any) -> set[int]:
        step()
        db.flush()
        found = set(db.scalars(select(ComplianceLearner.user_id).where(ComplianceLearner.waiting)))
        tallies.recount_waiting(db)
        return found

    assert after(lambda: factories.add_to_group(db, free.id, other)) == set()
    assert after(lambda: factories.add_to_group(db, counted.id, other)) == {counted.id}
    assert after(lambda: db.execute(delete(UserGroup).where(UserGroup.group_id == other.id))) == {counted.id}
    assert after(lambda: db.execute(update(Group).where(Group.id == team.id).values(name="renamed"))) == set()
    assert after(lambda: db.execute(update(Group).where(Group.id == team.id).values(parent_id=other.id))) == {
        counted.id
    }
    assert after(lambda: db.execute(update(Group).where(Group.id == team.id).values(parent_id=None))) == {
        counted.id
    }
    assert after(lambda: db.execute(delete(Group).where(Group.id == top.id))) == set()
    assert after(lambda: db.execute(delete(Group).where(Group.id == team.id))) == {counted.id}
    assert after(lambda: db.execute(delete(User).where(User.id == free.id))) == set()
    assert after(lambda: db.execute(delete(User).where(User.id == counted.id))) == {counted.id}
    assert not db.scalar(select(func.sum(ComplianceTally.pairs)))
    assert not db.scalar(select(func.count()).select_from(ComplianceContribution))
    assert not db.scalar(select(func.count()).select_from(ComplianceLearner))


def test_a_recount_serves_every_account_with_marks(db, context):
    """However small the batch, one pass recounts learners of every account with marks: one
    account's waiting learners (held by its long upload, say) never hold up another's."""
    for name in ("first", "second"):
        account = factories.make_account(db, f"tallies-share-{name}")
        user = factories.make_user(db, account, "ana")
        factories.enrol_user(db, factories.make_channel(db, account, "c1"), user)
        _apply(db, account, context, ("put_certificate", "k1", ["c1"], None, False))
        certificates_service.set_requirement(db, account, context, "k1", "ana", True)
    assert tallies.recount_waiting(db, limit=1) == 2


def test_a_walks_count_is_the_summarys(db, http, context, monkeypatch):
    """The learners' first page counts its walk from the tallies once recounted: the same pages
    as from the standings alone."""
    account = factories.make_account(db, "tallies-walk")
    group = factories.make_group(db, account, "all")
    courses = {name: factories.make_channel(db, account, name) for name in COURSES}
    for name in USERS:
        user = factories.make_user(db, account, name)
        factories.add_to_group(db, user.id, group)
        for course in courses.values():
            factories.enrol_user(db, course, user)
    for course in COURSES:
        _apply(db, account, context, ("put_item", course, "i1", False))
    _apply(db, account, context, ("put_certificate", "k1", ["c1"], (1, "YEAR"), False))
    for user in USERS:
        _apply(db, account, context, ("require", "k1", user, True))
    _apply(db, account, context, ("activity", "u1", "c1", "i1", True, 10))
    _apply(db, account, context, ("activity", "u2", "c1", "i1", True, 400))
    tallies.recount_waiting(db)
    assert (
        db.scalar(select(func.count()).select_from(ComplianceLearner).where(ComplianceLearner.waiting)) == 0
    )
    assert db.scalar(select(func.count()).select_from(ComplianceTally)) > 0

    def page(status: str) -> Any:
        query = LearnersQuery.model_validate(
            {"status": status, "groupIdentifier": "all", "certificateId": "k1"}
        )
        walk = context.paginator.walk(query, account_id=account.id, endpoint="admin/v1/compliance/learners")
        warning = context.settings.cert_expiry_warning_days
        return compliance_service.learners_page(db, account, walk, now=utcnow(), warning_days=warning)

    # A certificate of 30 days, earned 10 and 25 days ago: it ends in 20 days (week 3) and in 5.
    _apply(db, account, context, ("put_certificate", "k2", ["c2"], (30, "DAY"), False))
    _apply(db, account, context, ("put_item", "c2", "i1", False))
    for user, days in (("u3", 10), ("u4", 25)):
        _apply(db, account, context, ("require", "k2", user, True))
        _apply(db, account, context, ("activity", user, "c2", "i1", True, days))
    tallies.recount_waiting(db)
    by_week = _weeks(db, account, context, utcnow(), "all")
    with monkeypatch.context() as patched:
        patched.setattr(tallies, "READ_LIMIT", -1)
        assert by_week == _weeks(db, account, context, utcnow(), "all")
    assert by_week == [1, 0, 1, *[0] * 9]
    for status, total in (("ALL", 4), ("COMPLIANT", 1), ("NON_COMPLIANT", 3), ("EXPIRING", 0)):
        fast = page(status)
        with monkeypatch.context() as patched:
            patched.setattr(tallies, "READ_LIMIT", -1)
            slow = page(status)
        assert fast.model_dump(exclude={"pagination_key"}) == slow.model_dump(exclude={"pagination_key"})
        assert len(fast.items) == total


def test_a_recount_leaves_the_learners_another_transaction_is_changing(backend, scratch):
    """PostgreSQL: a learner is added to a group (not committed yet) while a requirement makes him
    counted and marks him: neither transaction sees the other, and the membership's trigger,
    finding him neither counted nor marked, marks nobody. The recount must not count him without
    the membership: it leaves him marked, and counts him in the group once it is in."""
    if backend != "postgresql":
        pytest.skip("SQLite writes one transaction at a time")
    url = scratch.new()
    migrate.upgrade(url)
    database = Database(make_engine(url))
    try:
        with database.session(write=True) as session:
            account = factories.make_account(session, "held")
            team = factories.make_group(session, account, "team")
            ana = factories.make_user(session, account, "ana")
            certificate = Certificate(account_id=account.id, external_id="k1", name="k1")
            session.add(certificate)
            session.flush()
            ids = account.id, team.id, ana.id, certificate.id
        account_id, team_id, ana_id, certificate_id = ids
        with database.engine.connect() as other:
            other.execute(insert(UserGroup).values(user_id=ana_id, group_id=team_id))  # not committed
            with database.session(write=True) as session:
                session.add(UserCertificate(user_id=ana_id, certificate_id=certificate_id, is_required=True))
                session.flush()
                standings.refresh(session, AccountScope(account_id), [certificate_id], [ana_id])
            with database.session(write=True) as session:
                assert set(
                    session.scalars(select(ComplianceLearner.user_id).where(ComplianceLearner.waiting))
                ) == {ana_id}
                assert tallies.recount_waiting(session) == 0
            other.commit()
        with database.session(write=True) as session:
            assert tallies.recount_waiting(session) == 1
            counted = set(
                session.scalars(
                    select(ComplianceContribution.group_id).where(ComplianceContribution.user_id == ana_id)
                )
            )
        assert counted == {tallies.ACCOUNT, team_id}
    finally:
        database.engine.dispose()
