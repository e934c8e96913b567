"""A small organisation whose learners stand in every compliance state, built for the API tests.

Groups: org > north > north-team, org > south, and a top-level "other". Two courses of two
required items (and an optional one). cert-1: course-a, valid one year; cert-2: both courses,
never expires, asks for the learner's confirmation.

cert-1, required for all but eve (who learns in its course: in scope only with scope=all):
ana certified 100 days ago (CERTIFIED), bob 350 days ago (ABOUT_TO_EXPIRE, ends in 15 days),
cid 400 days ago (EXPIRED), dee one item of two (IN_PROGRESS), fay certified then revoked
(REVOKED, sub-account EU), gus nothing yet (INIT), eve certified 10 days ago.
cert-2, required for ana: both courses complete, not confirmed (AWAITS_LEARNER_CONFIRMATION).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from enabley.models import Account, SubAccount, UserSubAccount
from tests import factories
from tests.certificates.helpers import complete, days_ago, ok, put_certificate

GROUPS = {"ana": "north-team", "bob": "north", "cid": "south", "dee": "south", "eve": "other"}
GROUPS |= {"fay": "north-team", "gus": "north-team"}
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
        factories.make_channel_item(db, channel, "i1")
        factories.make_channel_item(db, channel, "i2", kind="EVENT")
        factories.make_channel_item(db, channel, "opt", optional=True)
        courses.append(channel)
    users = {}
    for name, group in GROUPS.items():
        user = factories.make_user(db, account, name, first_name=name.title(), email=f"{name}@example.com")
        factories.add_to_group(db, user.id, groups[group])
        for course in courses:
            factories.enrol_user(db, course, user)
        users[name] = user
    eu = db.query(SubAccount).filter_by(account_id=account.id, name="EU").one()
    db.add(UserSubAccount(user_id=users["fay"].id, sub_account_id=eu.id))
    db.flush()
    expiring = {"expiration": {"duration": 1, "period": "YEAR"}}
    ok(put_certificate(client, headers, "cert-1", courseIds=["course-a"], **expiring), 201)
    ok(
        put_certificate(
            client, headers, "cert-2", courseIds=["course-a", "course-b"], requiresLearnerConfirmation=True
        ),
        201,
    )
    for name, days in CERTIFIED_DAYS_AGO.items():
        for item in ("i1", "i2"):
            complete(client, headers, name, "course-a", item, days_ago(days))
    complete(client, headers, "dee", "course-a", "i1", days_ago(5))
    for item in ("i1", "i2"):
        complete(client, headers, "ana", "course-b", item, days_ago(50))
    for name in GROUPS:
        if name != "eve":
            require(client, headers, "cert-1", name)
    require(client, headers, "cert-2", "ana")
    ok(client.post("/api/admin/v1/certificates/cert-1/users/fay/revoke", headers=headers))
    return World(headers, users)


def require(client: Any, headers: dict[str, str], certificate: str, user: str) -> None:
    body = {"certificateIdentifier": certificate, "userIdentifier": user, "isRequired": True}
    ok(client.put("/api/v1/certificates/compliance", json=body, headers=headers))
