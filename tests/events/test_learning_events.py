"""Channels, enrollments, completions, certificates (the sweep's too) and uploads in the feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from enabley.events.expiry import sweep_expiries
from tests import factories
from tests.certificates.helpers import complete, days_ago, iso, ok, put_certificate, state_of
from tests.events.helpers import JSON, cursor, events, kinds
from tests.factories import user_body


def test_channel_and_enrollment_events(client, headers):
    r = client.put("/api/v1/channels", json={"identifier": "c1", "name": "Course"}, headers=headers)
    assert r.status_code == 201
    created = r.json()
    updated = ok(
        client.put("/api/v1/channels", json={"identifier": "c1", "name": "Course 1"}, headers=headers)
    )
    ok(client.put("/api/v2/users", json=user_body("u"), headers=headers), 201)
    ok(client.put("/api/v1/groups", json={"identifier": "g", "name": "g"}, headers=headers), 201)
    after = cursor(client, headers)
    post = lambda path, **p: client.post(path, params=p, headers={**headers, **JSON})  # noqa: E731
    assert post("/api/v2/channels/c1/users/u", roles="LEARNER").status_code == 200
    assert post("/api/v2/channels/c1/users/u", roles="LEARNER").status_code == 200  # nothing new
    assert post("/api/v1/channels/c1/groups/g").status_code == 200
    assert client.delete("/api/v1/channels/c1/users/u", headers=headers).status_code == 200
    assert client.delete("/api/v1/channels/c1/groups/g", headers=headers).status_code == 200
    assert [(e["type"], e["data"]) for e in events(client, headers, after)] == [
        ("enrollment.created", {"channelIdentifier": "c1", "userIdentifier": "u", "roles": ["LEARNER"]}),
        ("enrollment.created", {"channelIdentifier": "c1", "groupIdentifier": "g"}),
        ("enrollment.deleted", {"channelIdentifier": "c1", "userIdentifier": "u", "roles": ["LEARNER"]}),
        ("enrollment.deleted", {"channelIdentifier": "c1", "groupIdentifier": "g"}),
    ]
    found = events(client, headers, types="channel.*")
    assert [(e["type"], e["data"]) for e in found] == [
        ("channel.created", created),
        ("channel.updated", updated),
    ]


def _course(db, account):
    ana = factories.make_user(db, account, "ana", first_name="Ana", last_name="Souza")
    channel = factories.make_channel(db, account, "course-a")
    factories.make_channel_item(db, channel, "i1")
    factories.make_channel_item(db, channel, "i2")
    factories.enrol_user(db, channel, ana)


def test_completion_certification_and_revocation(client, headers, db, account):
    _course(db, account)
    ok(put_certificate(client, headers, courseIds=["course-a"]), 201)
    complete(client, headers, "ana", "course-a", "i1", days_ago(2))
    assert kinds(client, headers, types="learner,certificate") == []
    complete(client, headers, "ana", "course-a", "i2", days_ago(1))
    complete(client, headers, "ana", "course-a", "i2", days_ago(1))  # completed already
    r = client.post("/api/admin/v1/certificates/cert-1/users/ana/revoke", headers=headers)
    assert r.status_code == 200
    found = events(client, headers, types="learner,certificate")
    assert [e["type"] for e in found] == ["learner.completed", "certificate.certified", "certificate.revoked"]
    assert found[0]["data"]["progress"] == 100 and found[0]["data"]["externalUserId"] == "ana"
    assert found[1]["data"] == {
        "userIdentifier": "ana",
        "externalCertificateId": "cert-1",
        "name": "Forklift safety",
        "isRequired": False,
        "state": "CERTIFIED",
        "certificationDate": iso(days_ago(1)),
        "expirationDate": None,
    }
    assert found[2]["data"]["state"] == "REVOKED"


def test_the_expiry_sweep_emits_each_notice_once_per_certification(client, headers, db, account):
    _course(db, account)
    expiring = {"duration": 100, "period": "DAY"}
    ok(put_certificate(client, headers, courseIds=["course-a"], expiration=expiring), 201)
    for item in ("i1", "i2"):
        complete(client, headers, "ana", "course-a", item, days_ago(90))
    assert state_of(client, headers)["state"] == "ABOUT_TO_EXPIRE"
    conn = db.connection()
    now = datetime.now(UTC)
    assert sweep_expiries(conn, now) == 1
    assert sweep_expiries(conn, now) == 0
    assert sweep_expiries(conn, now + timedelta(days=11)) == 1
    assert sweep_expiries(conn, now + timedelta(days=12)) == 0
    # A new certification is noticed afresh.
    complete(client, headers, "ana", "course-a", "i2", days_ago(80), completed=False)
    complete(client, headers, "ana", "course-a", "i2", days_ago(80))
    assert sweep_expiries(conn, now) == 1
    found = events(client, headers, types="certificate.about_to_expire,certificate.expired")
    assert [e["type"] for e in found] == [
        "certificate.about_to_expire",
        "certificate.expired",
        "certificate.about_to_expire",
    ]
    assert found[0]["data"]["certificationDate"] == iso(days_ago(90))
    assert found[2]["data"]["certificationDate"] == iso(days_ago(80))


def _upload(client, headers, users, groups=None):
    files = [{"fileName": "users.csv", "content": users}]
    if groups:
        files.insert(0, {"fileName": "groups.csv", "content": groups})
    return client.post("/api/v1/uploads/org", json={"files": files}, headers=headers)


def test_the_bulk_upload_emits_its_rows_and_its_outcome(client, headers):
    r = _upload(
        client, headers, "identifier,firstName,groups\nu1,Ana,g1\nu2,Bo,\n", "identifier,name\ng1,G one\n"
    )
    assert r.status_code == 200, r.text
    found = events(client, headers)
    # A chunk's users' events, then their memberships (uploads.row_events.ORDER).
    assert [e["type"] for e in found] == [
        "group.created",
        "user.created",
        "user.created",
        "group.member_added",
        "upload.completed",
    ]
    assert found[0]["data"]["identifier"] == "g1"
    assert found[1]["data"]["identifier"] == "u1" and found[1]["data"]["firstName"] == "Ana"
    assert found[2]["data"]["identifier"] == "u2" and found[2]["data"]["firstName"] == "Bo"
    assert found[3]["data"] == {"groupIdentifier": "g1", "userIdentifier": "u1"}
    assert found[4]["data"] == r.json()
    assert len({e["id"] for e in found}) == len(found)
    after = cursor(client, headers)
    assert _upload(client, headers, "identifier,firstName,groups\nu1,Anna,\n").status_code == 200
    changed = events(client, headers, after)
    assert [e["type"] for e in changed] == ["user.updated", "group.member_removed", "upload.completed"]
    assert changed[0]["data"]["firstName"] == "Anna"
    assert changed[1]["data"] == {"groupIdentifier": "g1", "userIdentifier": "u1"}


def test_a_refused_upload_emits_only_that_it_failed(client, headers):
    r = _upload(client, headers, "identifier,groups\nu1,nowhere\n")
    assert r.status_code == 400
    found = events(client, headers)
    assert [e["type"] for e in found] == ["upload.failed"]
    assert found[0]["data"] == r.json()
    assert client.get("/api/v2/users/u1", headers=headers).status_code == 404
