"""The compliance API on a small organisation (tests/compliance/world.py): the summary's counts
and the learners' listing, each checked against the certificate states the API answers per user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import literal, select

from enabley.certificates.rules import ExpirationPeriod, add_period
from enabley.compliance import query, service, standings
from enabley.compliance.schemas import SummaryQuery
from enabley.db.columns import UtcDateTime
from enabley.models import Certificate, Group, UserCertificate
from tests import factories
from tests.certificates.helpers import error, ok, put_certificate, state_of
from tests.compliance import world as w

SUMMARY = "/api/admin/v1/compliance/summary"
LEARNERS = "/api/admin/v1/compliance/learners"


@pytest.fixture
def world(db, client, account, headers):
    return w.build(db, client, account, headers)


def summary(client, world, **params):
    return ok(client.get(SUMMARY, params=params, headers=world.headers))


def learners(client, world, **params):
    return ok(client.get(LEARNERS, params=params, headers=world.headers))


def brief(counts):
    nonzero = {state: n for state, n in counts["states"].items() if n}
    return counts["inScope"], counts["compliant"], counts["nonCompliant"], counts["expiring"], nonzero


CERT_1 = (
    6,
    2,
    4,
    1,
    {"CERTIFIED": 1, "ABOUT_TO_EXPIRE": 1, "EXPIRED": 1, "IN_PROGRESS": 1, "REVOKED": 1, "INIT": 1},
)
EMPTY = (0, 0, 0, 0, {})


def test_summary_of_one_certificate_overall_and_by_top_level_group(client, world):
    found = summary(client, world, certificateId="cert-1")
    assert brief(found["overall"]) == CERT_1
    assert {g["groupIdentifier"]: brief(g["counts"]) for g in found["groups"]} == {
        "org": CERT_1,
        "other": EMPTY,
    }
    assert [c["externalCertificateId"] for c in found["certificates"]] == ["cert-1"]
    assert found["withinDays"] == 30


def test_summary_by_child_group_recursive_or_not(client, world):
    found = summary(client, world, certificateId="cert-1", groupIdentifier="org")
    by_group = {g["groupIdentifier"]: brief(g["counts"]) for g in found["groups"]}
    assert brief(found["overall"]) == CERT_1
    assert by_group == {
        "north": (4, 2, 2, 1, {"CERTIFIED": 1, "ABOUT_TO_EXPIRE": 1, "REVOKED": 1, "INIT": 1}),
        "south": (2, 0, 2, 0, {"EXPIRED": 1, "IN_PROGRESS": 1}),
    }
    flat = summary(client, world, certificateId="cert-1", groupIdentifier="north", recursive="false")
    assert brief(flat["overall"]) == (1, 1, 0, 1, {"ABOUT_TO_EXPIRE": 1})  # bob, north's only member
    # The child groups' rows break down the learners counted overall: none of north-team's.
    assert [(g["groupIdentifier"], g["counts"]["inScope"]) for g in flat["groups"]] == [("north-team", 0)]
    team = summary(client, world, certificateId="cert-1", groupIdentifier="north-team", recursive="false")
    assert brief(team["overall"])[:2] == (3, 1)


def test_summary_of_a_sub_account(client, world):
    found = summary(client, world, certificateId="cert-1", subAccountName="EU")
    assert brief(found["overall"]) == (1, 0, 1, 0, {"REVOKED": 1})


def test_summary_of_every_certificate_counts_pairs(client, world):
    found = summary(client, world)
    assert brief(found["overall"])[:4] == (7, 2, 5, 1)
    per = {c["externalCertificateId"]: brief(c["counts"]) for c in found["certificates"]}
    assert per == {"cert-1": CERT_1, "cert-2": (1, 0, 1, 0, {"AWAITS_LEARNER_CONFIRMATION": 1})}


def test_scope_all_of_a_certificate_of_two_courses(client, world):
    # Both courses' learners (each course's learners were once read by one query each, two
    # recursive parts of one name that SQLAlchemy refused to compile).
    found = summary(client, world, certificateId="cert-2", scope="all")
    assert found["overall"]["inScope"] == 7
    assert found["overall"]["states"]["AWAITS_LEARNER_CONFIRMATION"] == 1


def test_scope_all_adds_the_learners_of_its_courses(client, world):
    found = summary(client, world, certificateId="cert-1", scope="all")
    assert brief(found["overall"])[:4] == (7, 3, 4, 1)  # eve, certified 10 days ago
    everyone = summary(client, world, scope="all")
    # cert-2: every learner of course-a or course-b; only ana finished both, unconfirmed.
    assert everyone["certificates"][1]["counts"]["inScope"] == 7


def test_within_days_widens_expiring(client, world):
    assert summary(client, world, certificateId="cert-1", withinDays=10)["overall"]["expiring"] == 0
    assert summary(client, world, certificateId="cert-1", withinDays=300)["overall"]["expiring"] == 2


def test_learners_by_status_in_expiration_order(client, world):
    def listed(status):
        return [
            (i["userIdentifier"], i["externalCertificateId"])
            for i in learners(client, world, status=status)["items"]
        ]

    assert listed("NON_COMPLIANT") == [
        ("cid", "cert-1"),
        ("ana", "cert-2"),
        ("dee", "cert-1"),
        ("fay", "cert-1"),
        ("gus", "cert-1"),
    ]
    assert listed("COMPLIANT") == [("bob", "cert-1"), ("ana", "cert-1")]
    assert listed("EXPIRING") == [("bob", "cert-1")]
    assert listed("ALL") == [
        ("cid", "cert-1"),
        ("bob", "cert-1"),
        ("ana", "cert-1"),
        ("ana", "cert-2"),
        ("dee", "cert-1"),
        ("fay", "cert-1"),
        ("gus", "cert-1"),
    ]


def test_learner_items_agree_with_each_users_certificate_states(client, world):
    for item in learners(client, world, status="ALL", scope="all")["items"]:
        expected = state_of(client, world.headers, item["externalCertificateId"], item["userIdentifier"])
        assert (item["state"], item["certificationDate"], item["expirationDate"], item["isRequired"]) == (
            expected["state"],
            expected["certificationDate"],
            expected["expirationDate"],
            expected["isRequired"],
        ), item["userIdentifier"]


def test_learner_item_fields_and_group_path(client, world):
    (bob,) = learners(client, world, status="EXPIRING")["items"]
    assert bob["groupPaths"] == [["org", "north"]]
    assert (bob["firstName"], bob["email"], bob["status"], bob["certificateName"]) == (
        "Bob",
        "bob@example.com",
        "EXPIRING",
        "Forklift safety",
    )
    (ana,) = learners(client, world, status="COMPLIANT", groupIdentifier="north-team")["items"]
    assert ana["groupPaths"] == [["org", "north", "north-team"]]


def test_learners_paged_across_pages_with_the_key(client, world, page_size):
    page_size(2)
    first = learners(client, world, status="ALL")
    assert (first["currentPage"], first["totalPages"], len(first["items"])) == (1, 4, 2)
    seen = [i["userIdentifier"] for i in first["items"]]
    key = first["paginationKey"]
    while key:
        page = learners(client, world, paginationKey=key)
        seen += [i["userIdentifier"] for i in page["items"]]
        key = page["paginationKey"]
    assert seen == ["cid", "bob", "ana", "ana", "dee", "fay", "gus"]
    error(
        client.get(
            LEARNERS,
            params={"paginationKey": first["paginationKey"], "status": "EXPIRING"},
            headers=world.headers,
        ),
        404,
        "not_found",
    )


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"certificateId": "nope"}, 404, "not_found"),
        ({"groupIdentifier": "nope"}, 404, "not_found"),
        ({"subAccountName": "nope"}, 400, "invalid_request"),
        ({"withinDays": "-1"}, 400, "invalid_request"),
        ({"scope": "some"}, 400, "invalid_request"),
    ],
)
def test_unknown_filters_are_refused(client, world, params, status, code):
    for path in (SUMMARY, LEARNERS):
        error(client.get(path, params=params, headers=world.headers), status, code)


def test_bad_status_is_refused(client, world):
    assert "status" in error(
        client.get(LEARNERS, params={"status": "LATE"}, headers=world.headers), 400, "invalid_request"
    )


def test_another_account_sees_none_of_it(client, world, db, auth):
    other = auth(factories.make_account(db))
    error(client.get(SUMMARY, params={"certificateId": "cert-1"}, headers=other), 404, "not_found")
    error(client.get(LEARNERS, params={"groupIdentifier": "org"}, headers=other), 404, "not_found")
    assert ok(client.get(SUMMARY, headers=other))["overall"]["inScope"] == 0
    assert ok(client.get(LEARNERS, params={"status": "ALL"}, headers=other))["items"] == []


def test_boundaries_to_the_instant(client, world, db, account):
    (bob,) = learners(client, world, status="EXPIRING")["items"]
    ends = datetime.fromisoformat(bob["expirationDate"])

    def bob_at(now, within_days):
        filters = SummaryQuery(
            certificateId="cert-1", groupIdentifier="north", recursive=False, withinDays=within_days
        )
        counts = service.summary(db, account, filters, now=now, warning_days=30).overall
        return {s.value: n for s, n in counts.states.items() if n}, counts.expiring

    assert bob_at(ends - timedelta(days=10), 10) == ({"ABOUT_TO_EXPIRE": 1}, 1)  # exactly withinDays
    assert bob_at(ends - timedelta(days=10, microseconds=1), 10) == ({"ABOUT_TO_EXPIRE": 1}, 0)
    assert bob_at(ends - timedelta(days=30, microseconds=1), 40) == ({"CERTIFIED": 1}, 1)
    assert bob_at(ends, 10) == ({"EXPIRED": 1}, 0)  # expired today, at the instant


@pytest.mark.parametrize(
    ("start", "duration", "period"),
    [
        (datetime(2023, 1, 31, 23, 59, 59, 999999, tzinfo=UTC), 1, ExpirationPeriod.MONTH),
        (datetime(2024, 1, 30, 8, tzinfo=UTC), 1, ExpirationPeriod.MONTH),
        (datetime(2024, 2, 29, 12, 0, 0, 123456, tzinfo=UTC), 1, ExpirationPeriod.YEAR),
        (datetime(2023, 12, 31, tzinfo=UTC), 2, ExpirationPeriod.MONTH),
        (datetime(2023, 8, 31, 1, tzinfo=UTC), 6, ExpirationPeriod.MONTH),
        (datetime(2024, 12, 31, 23, tzinfo=UTC), 1, ExpirationPeriod.DAY),
        (datetime(2024, 3, 15, 6, tzinfo=UTC), 3, ExpirationPeriod.YEAR),
    ],
)
def test_database_expiration_dates_match_the_rules(db, start, duration, period):
    expr = query.expiration(
        db.get_bind().dialect.name, literal(start, UtcDateTime()), literal(duration), literal(period.value)
    )
    assert db.execute(select(expr)).scalar_one() == add_period(start, duration, period)


def test_a_certificate_without_courses_is_init_for_whom_it_is_required(client, world, db):
    ok(put_certificate(client, world.headers, "cert-empty"), 201)
    empty = db.scalar(select(Certificate.id).where(Certificate.external_id == "cert-empty"))
    db.add(UserCertificate(user_id=world.users["gus"].id, certificate_id=empty, is_required=True))
    db.flush()
    standings.refresh(db, world.users["gus"], [empty])  # a record written around the services
    found = summary(client, world, certificateId="cert-empty")
    assert brief(found["overall"]) == (1, 0, 1, 0, {"INIT": 1})


def test_a_listing_that_matches_nothing_is_one_empty_page(client, world):
    page = learners(client, world, status="EXPIRING", groupIdentifier="south")
    assert (page["items"], page["totalPages"], page["paginationKey"]) == ([], 0, None)


def test_a_learner_in_two_groups_shows_both_paths_and_counts_once(client, world, db, account):
    south = db.scalar(select(Group).where(Group.account_id == account.id, Group.external_id == "south"))
    factories.add_to_group(db, world.users["bob"].id, south)
    (bob,) = learners(client, world, status="EXPIRING")["items"]
    assert sorted(bob["groupPaths"]) == [["org", "north"], ["org", "south"]]
    found = summary(client, world, certificateId="cert-1", groupIdentifier="org")
    assert found["overall"]["inScope"] == 6
    assert {g["groupIdentifier"]: g["counts"]["expiring"] for g in found["groups"]} == {
        "north": 1,
        "south": 1,
    }
