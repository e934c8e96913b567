"""The stored standings (``compliance.standings``) stay what the records say through any sequence
of writes: after each write, the kept rows equal a recomputation of the whole account, and the
state of every learner of a course, read through the compliance listing, equals the state the
certificates API derives in Python (``certificates.rules``) for him."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from enabley.certificates import service as certificates_service
from enabley.certificates.schemas import CertificateData, CertificateExpiration
from enabley.channels import items as items_service
from enabley.channels.schemas import ContentItemData
from enabley.compliance import service as compliance_service
from enabley.compliance import standings
from enabley.compliance.schemas import LearnersQuery
from enabley.db.columns import utcnow
from enabley.errors import AppError
from enabley.models import Account, CertificateStanding
from enabley.performance import service as performance_service
from enabley.performance.schemas import ActivityData
from tests import factories

USERS = ["u1", "u2", "u3"]
COURSES = ["c1", "c2"]
ITEMS = ["i1", "i2", "i3"]
CERTIFICATES = ["k1", "k2"]
EXAMPLES = itertools.count()

operations = st.lists(
    st.one_of(
        # A learner's progress on an item, completed some days ago (or not).
        st.tuples(
            st.just("activity"),
            st.sampled_from(USERS),
            st.sampled_from(COURSES),
            st.sampled_from(ITEMS),
            st.booleans(),
            st.integers(0, 800),
        ),
        st.tuples(st.just("force_complete"), st.sampled_from(USERS), st.sampled_from(COURSES)),
        st.tuples(st.just("put_item"), st.sampled_from(COURSES), st.sampled_from(ITEMS), st.booleans()),
        st.tuples(st.just("delete_item"), st.sampled_from(COURSES), st.sampled_from(ITEMS)),
        st.tuples(
            st.just("put_certificate"),
            st.sampled_from(CERTIFICATES),
            st.lists(st.sampled_from(COURSES), unique=True, max_size=2),
            st.sampled_from([None, (1, "YEAR"), (6, "MONTH"), (30, "DAY")]),
            st.booleans(),
        ),
        st.tuples(st.just("require"), st.sampled_from(CERTIFICATES), st.sampled_from(USERS), st.booleans()),
        st.tuples(st.just("revoke"), st.sampled_from(CERTIFICATES), st.sampled_from(USERS)),
        st.tuples(st.just("confirm"), st.sampled_from(CERTIFICATES), st.sampled_from(USERS)),
    ),
    max_size=14,
)


def _apply(db: Session, account: Account, context: Any, op: tuple[Any, ...]) -> None:
    kind, *args = op
    if kind == "activity":
        user, course, item, completed, days = args
        data = ActivityData.model_validate(
            {
                "userIdentifier": user,
                "channelIdentifier": course,
                "itemIdentifier": item,
                "completed": completed,
                "occurredAt": (utcnow() - timedelta(days=days)).isoformat(),
            }
        )
        performance_service.record_activity(db, account, data)
    elif kind == "force_complete":
        performance_service.force_complete(db, account, args[1], args[0])
    elif kind == "put_item":
        course, item, optional = args
        data = ContentItemData.model_validate({"identifier": item, "name": item, "optional": optional})
        items_service.upsert_content_item(db, account, course, data)
    elif kind == "delete_item":
        items_service.delete_content_item(db, account, args[0], args[1])
    elif kind == "put_certificate":
        name, courses, expiration, confirmation = args
        certificates_service.upsert_certificate(
            db,
            account,
            CertificateData(
                external_certificate_id=name,
                name=name,
                course_ids=courses,
                expiration=CertificateExpiration(duration=expiration[0], period=expiration[1])
                if expiration
                else None,
                requires_learner_confirmation=confirmation,
            ),
        )
    elif kind == "require":
        certificates_service.set_requirement(db, account, context, args[0], args[1], args[2])
    elif kind == "revoke":
        certificates_service.revoke(db, account, context, args[0], args[1])
    else:
        certificates_service.confirm(db, account, context, args[0], args[1])


def _kept(db: Session, account: Account) -> set[tuple[Any, ...]]:
    """The account's stored standings, a pair with nothing recorded (INIT, no row) left out."""
    rows = db.execute(
        select(
            CertificateStanding.user_id,
            CertificateStanding.certificate_id,
            CertificateStanding.is_required,
            CertificateStanding.unearned_state,
            CertificateStanding.certification_date,
            CertificateStanding.expiration_date,
            CertificateStanding.due,
        ).where(CertificateStanding.account_id == account.id)
    )
    return {tuple(row) for row in rows if row.unearned_state != "INIT" or row.is_required}


def _recomputed(db: Session, account: Account) -> set[tuple[Any, ...]]:
    with db.begin_nested() as savepoint:
        standings.refresh_account(db, account)
        found = _kept(db, account)
        savepoint.rollback()
    return found


def _listed(db: Session, account: Account, context: Any) -> dict[tuple[str, str], str]:
    """Every pair of the learners of the certificates' courses, and its state, as the compliance
    listing (scope=all) answers it."""
    query = LearnersQuery.model_validate({"status": "ALL", "scope": "all"})
    walk = context.paginator.walk(query, account_id=account.id, endpoint="admin/v1/compliance/learners")
    page = compliance_service.learners_page(
        db, account, walk, now=utcnow(), warning_days=context.settings.cert_expiry_warning_days
    )
    return {(item.user_identifier, item.external_certificate_id): item.state.value for item in page.items}


def _derived(db: Session, account: Account, context: Any) -> dict[tuple[str, str], str]:
    """The same pairs' states as the certificates API derives them, one learner at a time."""
    found = {}
    for user in USERS:
        for state in certificates_service.user_certificates(db, account, context, user):
            found[user, state.external_certificate_id] = state.state.value
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_kept_standings_follow_every_write(db, http, context, ops):
    account = factories.make_account(db, f"standings-{next(EXAMPLES)}")
    courses = {name: factories.make_channel(db, account, name) for name in COURSES}
    for name in USERS:
        user = factories.make_user(db, account, name)
        for course in courses.values():
            factories.enrol_user(db, course, user)
    for course in COURSES:
        for item in ITEMS[:2]:
            _apply(db, account, context, ("put_item", course, item, False))
    _apply(db, account, context, ("put_certificate", "k1", ["c1"], (1, "YEAR"), False))
    for op in ops:
        try:
            with db.begin_nested():
                _apply(db, account, context, op)
        except AppError:
            pass  # refused (an unknown item, a learner not connected): nothing was written
        assert _kept(db, account) == _recomputed(db, account), op
    # Every learner of a course is in scope with scope=all, in the state the certificates API
    # derives; the listing also holds required pairs whose certificate left his courses, which
    # that API (certificates of the courses he learns in) does not show.
    listed = _listed(db, account, context)
    derived = _derived(db, account, context)
    assert {pair: listed.get(pair) for pair in derived} == derived
