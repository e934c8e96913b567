"""A small organisation whose learners stand in every compliance state, built for the API tests.

Groups: org > north > north-team, org > south, and a top-level "other". Two courses of two
required items (and an optional one). cert-1: course-a, valid one year; cert-2: both courses,
never expires, asks for the learner's confirmation.

cert-1, required for all but eve (who learns in its course: in scope only with scope=all):
ana certified 100 days ago (CERTIFIED), bob 350 days ago (ABOUT_TO_EXPIRE, ends in 15 days),
cid 400 days ago (EXPIRED), dee one item of two (IN_PROGRESS), fay certified then revoked
(REVOKED, sub-account EU), gus nothing yet (INIT), eve certified 10 days ago.
cert-2, required for ana: both courses complete, not confirmed (AWAITS_LEARNER_CONFIRMATION).
The certificates go through the admin API; progress and the required and revoked facts are
written as rows, which is what the API's own writes leave (tests/certificates covers those).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enabley.compliance import standings
from enabley.models import Account, Certificate, ItemProgress, SubAccount, UserCertificate, UserSubAccount
from tests import factories
from tests.certificates.helpers import days_ago, ok, put_certificate

GROUPS = {"ana": "north-team", "bob": "north", "cid": "south", "dee": "south", "eve": "other"}
GROUPS |= {"fay": "north-team", "gus": "north-team"}
ONE_YEAR = {"duration": 1, "period": "YEAR"}
CERTIFIED_DAYS_AGO = {"ana": 100, "bob": 350, "cid": 400, "fay": 20, "eve": 10}


@dataclass
class World:
    headers: dict[str, str]
    users: dict[str, Any]


def build(db: Session, client: Any, account: Account, headers: dict[str, str]) -> World:
    org = factories.make_group(db, account, "org")
    north = factories.make_group(db, account, "north", parent=org)
    groups = {
        "org": org,
        "north": north,
        "north-team": factories.make_group(db, account, "north-team", parent=north),
        "south": factories.make_group(db, account, "south", parent=org),
        "other": factories.make_group(db, account, "other"),
    }
    courses = []
    for name in ("course-a", "course-b"):
        channel = factories.make_channel(db, account, name)
        items = [
            factories.make_channel_item(db, channel, "i1"),
            factories.make_channel_item(db, channel, "i2", kind="EVENT"),
        ]
        factories.make_channel_item(db, channel, "opt", optional=True)
        courses.append((channel, items))
    users = {}
    for name, group in GROUPS.items():
        user = factories.make_user(db, account, name, first_name=name.title(), email=f"{name}@example.com")
        factories.add_to_group(db, user.id, groups[group])
        for channel, _ in courses:
            factories.enrol_user(db, channel, user)
        users[name] = user
    eu = db.query(SubAccount).filter_by(account_id=account.id, name="EU").one()
    db.add(UserSubAccount(user_id=users["fay"].id, sub_account_id=eu.id))
    ok(put_certificate(client, headers, "cert-1", courseIds=["course-a"], expiration=ONE_YEAR), 201)
    ok(
        put_certificate(
            client, headers, "cert-2", courseIds=["course-a", "course-b"], requiresLearnerConfirmation=True
        ),
        201,
    )
    (course_a, a_items), (course_b, b_items) = courses
    done = [(name, course_a, a_items, days) for name, days in CERTIFIED_DAYS_AGO.items()]
    done += [("dee", course_a, a_items[:1], 5), ("ana", course_b, b_items, 50)]
    for name, channel, items, days in done:
        for item in items:
            when = days_ago(days)
            db.add(
                ItemProgress(
                    user_id=users[name].id,
                    item_id=item.id,
                    channel_id=channel.id,
                    completed=True,
                    completed_at=when,
                    updated_at=when,
                )
            )
    certificates = dict(db.execute(select(Certificate.external_id, Certificate.id)).all())
    for name in GROUPS:
        if name != "eve":
            revoked = days_ago(1) if name == "fay" else None
            db.add(
                UserCertificate(
                    user_id=users[name].id,
                    certificate_id=certificates["cert-1"],
                    is_required=True,
                    revoked_at=revoked,
                )
            )
    db.add(UserCertificate(user_id=users["ana"].id, certificate_id=certificates["cert-2"], is_required=True))
    db.flush()
    standings.refresh_account(db, account)  # the records above were written around the services
    return World(headers, users)
