"""Certificates 3.3.1-3.3.5, their admin API, user states over time, and the PDF behind pdfUrl."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, event

from enabley.models import ChannelUser
from tests import factories
from tests.certificates.helpers import (
    complete,
    days_ago,
    error,
    iso,
    ok,
    pdf_text,
    put_certificate,
    state_of,
    states,
)

INFO_FIELDS = {
    "courseIds",
    "created",
    "expiration",
    "externalCertificateId",
    "name",
    "status",
    "requiresLearnerConfirmation",
}
STATE_FIELDS = {
    "certificationDate",
    "expirationDate",
    "externalCertificateId",
    "isRequired",
    "name",
    "pdfUrl",
    "state",
}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PDF_PREFIX = "https://lms.example.test/api/v1/certificates/pdf/"


@pytest.fixture
def courses(db, account):
    """Two courses with two required items each, and learner Ana Souza in both."""
    ana = factories.make_user(db, account, "ana", first_name="Ana", last_name="Souza")
    made = []
    for name in ("course-a", "course-b"):
        channel = factories.make_channel(db, account, name)
        factories.make_channel_item(db, channel, "i1")
        factories.make_channel_item(db, channel, "i2", kind="EVENT")
        factories.make_channel_item(db, channel, "opt", optional=True)
        factories.enrol_user(db, channel, ana)
        made.append(channel)
    return made


def finish(client, headers, course, when, user="ana"):
    for item in ("i1", "i2"):
        complete(client, headers, user, course, item, when)


# --- definitions -------------------------------------------------------------------------


def test_create_answers_201_with_certificate_information_and_update_200(client, headers, courses):
    created = ok(
        put_certificate(
            client,
            headers,
            courseIds=["course-b", "course-a", "course-b"],
            expiration={"duration": 2, "period": "YEAR"},
        ),
        201,
    )
    assert set(created) == INFO_FIELDS
    assert created["courseIds"] == ["course-b", "course-a"]
    assert created["expiration"] == {"duration": 2, "period": "YEAR"}
    assert (created["externalCertificateId"], created["name"], created["status"]) == (
        "cert-1",
        "Forklift safety",
        "ACTIVE",
    )
    assert TIMESTAMP.match(created["created"])
    updated = ok(put_certificate(client, headers, name="Forklift safety II", status="ARCHIVED"))
    # Fields left out keep their value.
    assert updated == {**created, "name": "Forklift safety II", "status": "ARCHIVED"}
    cleared = ok(put_certificate(client, headers, expiration=None, courseIds=["course-a"]))
    assert (cleared["expiration"], cleared["courseIds"], cleared["created"]) == (
        None,
        ["course-a"],
        created["created"],
    )
    for path in ("/api/v2/certificates/cert-1", "/api/admin/v1/certificates/cert-1"):
        assert ok(client.get(path, headers=headers)) == cleared


def test_every_field_the_admin_api_accepts_is_read_back(client, headers, courses):
    sent = {"courseIds": ["course-a"], "status": "INACTIVE", "expiration": {"duration": 3, "period": "MONTH"}}
    created = ok(put_certificate(client, headers, requiresLearnerConfirmation=True, **sent), 201)
    assert created["requiresLearnerConfirmation"] is True
    assert {**created, **sent, "name": "Forklift safety"} == created
    reads = [
        ok(client.get("/api/admin/v1/certificates/cert-1", headers=headers)),
        ok(client.get("/api/v2/certificates/cert-1", headers=headers)),
        *ok(client.get("/api/v1/certificates", headers=headers)),
        *ok(client.get("/api/v2/certificates", headers=headers))["items"],
    ]
    assert reads == [created] * 4
    # Left out of an update, it keeps its value; sent, it changes.
    assert ok(put_certificate(client, headers))["requiresLearnerConfirmation"] is True
    assert (
        ok(put_certificate(client, headers, requiresLearnerConfirmation=False))["requiresLearnerConfirmation"]
        is False
    )
    assert (
        ok(client.get("/api/admin/v1/certificates/cert-1", headers=headers))["requiresLearnerConfirmation"]
        is False
    )


def test_definition_errors(client, headers, courses, db, account):
    factories.make_course(db, account, "master", is_master=True)
    description = error(
        put_certificate(client, headers, courseIds=["course-a", "ghost", "master"]), 400, "invalid_request"
    )
    assert "'ghost'" in description and "'master'" in description and "course-a" not in description
    for expiration in (
        {"duration": 0, "period": "YEAR"},
        {"duration": 1, "period": "WEEK"},
        {"period": "DAY"},
    ):
        error(put_certificate(client, headers, expiration=expiration), 400, "invalid_request")
    error(put_certificate(client, headers, status="GONE"), 400, "invalid_request")
    error(put_certificate(client, headers, name=""), 400, "invalid_request")
    error(
        client.put("/api/admin/v1/certificates", json={"name": "x"}, headers=headers), 400, "invalid_request"
    )
    for path in ("/api/v2/certificates/nope", "/api/admin/v1/certificates/nope"):
        assert "nope" in error(client.get(path, headers=headers), 404, "not_found")


def test_v1_lists_every_certificate_and_v2_pages_them(client, headers, courses, page_size):
    for i in range(5):
        ok(put_certificate(client, headers, f"c-{i}", courseIds=["course-a"] if i % 2 else []), 201)
    listed = ok(client.get("/api/v1/certificates", headers=headers))
    assert [c["externalCertificateId"] for c in listed] == [f"c-{i}" for i in range(5)]
    assert [c["courseIds"] for c in listed] == [[], ["course-a"], [], ["course-a"], []]
    page_size(2)
    seen, key, pages = [], None, 0
    while True:
        body = ok(
            client.get("/api/v2/certificates", params={"paginationKey": key} if key else {}, headers=headers)
        )
        pages += 1
        assert (body["pageSize"], body["totalPages"], body["currentPage"]) == (2, 3, pages)
        seen += body["items"]
        key = body["paginationKey"]
        if key is None:
            break
    assert seen == listed
    error(
        client.get("/api/v2/certificates", params={"paginationKey": "x"}, headers=headers), 404, "not_found"
    )


# --- states over time --------------------------------------------------------------------


def test_state_goes_init_in_progress_certified(client, headers, courses, db, account):
    ok(put_certificate(client, headers, courseIds=["course-a", "course-b"]), 201)
    ok(put_certificate(client, headers, "unrelated", courseIds=[]), 201)
    first = state_of(client, headers)
    assert set(first) == STATE_FIELDS
    assert first == {
        "certificationDate": None,
        "expirationDate": None,
        "externalCertificateId": "cert-1",
        "isRequired": False,
        "name": "Forklift safety",
        "pdfUrl": None,
        "state": "INIT",
    }
    # Optional items are not progress.
    complete(client, headers, "ana", "course-a", "opt", days_ago(9))
    assert state_of(client, headers)["state"] == "INIT"
    complete(client, headers, "ana", "course-a", "i1", days_ago(9))
    assert state_of(client, headers)["state"] == "IN_PROGRESS"
    finish(client, headers, "course-a", days_ago(8))
    assert state_of(client, headers)["state"] == "IN_PROGRESS"
    finish(client, headers, "course-b", days_ago(3))
    certified = state_of(client, headers)
    assert certified["state"] == "CERTIFIED"
    assert certified["certificationDate"] == iso(days_ago(3))
    assert certified["expirationDate"] is None
    assert certified["pdfUrl"].startswith(PDF_PREFIX)
    assert [s["externalCertificateId"] for s in states(client, headers)] == ["cert-1"]


@pytest.mark.parametrize(
    ("completed_days_ago", "expected"),
    [(50, "CERTIFIED"), (90, "ABOUT_TO_EXPIRE"), (101, "EXPIRED")],
)
def test_expiration_after_duration_and_warning_before_it(
    client, headers, courses, completed_days_ago, expected
):
    ok(
        put_certificate(
            client, headers, courseIds=["course-a"], expiration={"duration": 100, "period": "DAY"}
        ),
        201,
    )
    finish(client, headers, "course-a", days_ago(completed_days_ago))
    found = state_of(client, headers)
    assert found["state"] == expected
    assert found["certificationDate"] == iso(days_ago(completed_days_ago))
    assert found["expirationDate"] == iso(days_ago(completed_days_ago - 100))
    assert (found["pdfUrl"] is None) == (expected == "EXPIRED")


def test_expiration_months_are_calendar_months(client, headers, courses):
    ok(
        put_certificate(
            client, headers, courseIds=["course-a"], expiration={"duration": 1, "period": "MONTH"}
        ),
        201,
    )
    finish(client, headers, "course-a", datetime(2024, 1, 31, 10, tzinfo=UTC))
    found = state_of(client, headers)
    assert (found["state"], found["certificationDate"], found["expirationDate"]) == (
        "EXPIRED",
        "2024-01-31T10:00:00.000Z",
        "2024-02-29T10:00:00.000Z",
    )


def test_confirmation_is_awaited_when_required(client, headers, courses):
    ok(put_certificate(client, headers, courseIds=["course-a"], requiresLearnerConfirmation=True), 201)
    finish(client, headers, "course-a", days_ago(2))
    awaiting = state_of(client, headers)
    assert (awaiting["state"], awaiting["certificationDate"], awaiting["pdfUrl"]) == (
        "AWAITS_LEARNER_CONFIRMATION",
        None,
        None,
    )
    confirmed = ok(client.post("/api/admin/v1/certificates/cert-1/users/ana/confirm", headers=headers))
    assert set(confirmed) == STATE_FIELDS
    assert (confirmed["state"], confirmed["certificationDate"]) == ("CERTIFIED", iso(days_ago(2)))
    assert confirmed["pdfUrl"].startswith(PDF_PREFIX)
    assert state_of(client, headers)["state"] == "CERTIFIED"


def test_revoked_for_good(client, headers, courses):
    ok(put_certificate(client, headers, courseIds=["course-a"]), 201)
    finish(client, headers, "course-a", days_ago(2))
    pdf_url = state_of(client, headers)["pdfUrl"]
    revoked = ok(client.post("/api/admin/v1/certificates/cert-1/users/ana/revoke", headers=headers))
    assert (revoked["state"], revoked["certificationDate"], revoked["pdfUrl"]) == ("REVOKED", None, None)
    finish(client, headers, "course-a", days_ago(1))
    assert state_of(client, headers)["state"] == "REVOKED"
    error(client.get(pdf_url.removeprefix("https://lms.example.test")), 404, "not_found")


def test_connection_is_learnership_of_any_course_and_progress_counts_after_leaving(
    client, headers, courses, db, account
):
    ok(put_certificate(client, headers, courseIds=["course-a", "course-b"]), 201)
    bia = factories.make_user(db, account, "bia")
    group = factories.make_group(db, account)
    factories.add_to_group(db, bia.id, group)
    assert states(client, headers, "bia") == []
    factories.assign_channel_group(db, courses[1], group)
    assert state_of(client, headers, user="bia")["state"] == "INIT"
    # Ana completes course A, then leaves it: still connected through course B, and A stays done.
    finish(client, headers, "course-a", days_ago(5))
    db.execute(delete(ChannelUser).where(ChannelUser.channel_id == courses[0].id))
    finish(client, headers, "course-b", days_ago(4))
    assert state_of(client, headers)["state"] == "CERTIFIED"
    db.execute(delete(ChannelUser).where(ChannelUser.channel_id == courses[1].id))
    assert states(client, headers) == []
    error(client.get("/api/v1/certificates/users/nobody", headers=headers), 404, "not_found")


@contextmanager
def _statements(context):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    connection = context.db.bind
    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_user_certificates_cost_the_same_two_queries_whatever_their_number(
    client, headers, courses, db, account, context
):
    counts = []
    for batch in (1, 4):
        for _ in range(batch):
            channel = factories.make_channel(db, account)
            factories.make_channel_item(db, channel, "i1")
            factories.enrol_user(db, channel, factories.make_user(db, account, factories.unique("x")))
            identifier = factories.unique("cert")
            ok(
                put_certificate(
                    client, headers, identifier, courseIds=["course-a", "course-b", channel.external_id]
                ),
                201,
            )
            body = {"certificateIdentifier": identifier, "isRequired": True, "userIdentifier": "ana"}
            ok(client.put("/api/v1/certificates/compliance", json=body, headers=headers))
        finish(client, headers, "course-a", days_ago(1))
        with _statements(context) as seen:
            found = states(client, headers)
        reads = [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        # The user's lookup; then his certificates with what is recorded about him, and the
        # progress in all their courses.
        assert "users.external_id = " in reads[0], reads
        counts.append(len(reads) - 1)
    assert len(found) == 5
    assert {(s["state"], s["isRequired"]) for s in found} == {("IN_PROGRESS", True)}
    assert counts == [2, 2]


# --- requirement, revoke and confirm errors ----------------------------------------------


def test_requirement_update(client, headers, courses):
    ok(put_certificate(client, headers, courseIds=["course-a"]), 201)
    body = {"certificateIdentifier": "cert-1", "isRequired": True, "userIdentifier": "ana"}
    updated = ok(client.put("/api/v1/certificates/compliance", json=body, headers=headers))
    assert set(updated) == STATE_FIELDS
    assert (updated["isRequired"], updated["state"]) == (True, "INIT")
    assert state_of(client, headers)["isRequired"] is True
    ok(client.put("/api/v1/certificates/compliance", json={**body, "isRequired": False}, headers=headers))
    assert state_of(client, headers)["isRequired"] is False


def test_requirement_revoke_and_confirm_errors(client, headers, courses, db, account):
    ok(put_certificate(client, headers, courseIds=["course-a"]), 201)
    factories.make_user(db, account, "stranger")

    def compliance(certificate, user):
        body = {"certificateIdentifier": certificate, "isRequired": True, "userIdentifier": user}
        return client.put("/api/v1/certificates/compliance", json=body, headers=headers)

    def admin(action, certificate, user):
        return client.post(f"/api/admin/v1/certificates/{certificate}/users/{user}/{action}", headers=headers)

    calls = [compliance] + [lambda c, u, a=action: admin(a, c, u) for action in ("revoke", "confirm")]
    for call in calls:
        assert "nope" in error(call("nope", "ana"), 404, "not_found")
        assert "nobody" in error(call("cert-1", "nobody"), 404, "not_found")
        assert "stranger" in error(call("cert-1", "stranger"), 409, "item_not_exists")
    error(
        client.put("/api/v1/certificates/compliance", json={"isRequired": True}, headers=headers),
        400,
        "invalid_request",
    )


def test_other_accounts_see_not_found(client, headers, courses, auth, db):
    ok(put_certificate(client, headers, courseIds=["course-a"]), 201)
    other = auth(factories.make_account(db))
    assert ok(client.get("/api/v1/certificates", headers=other)) == []
    assert ok(client.get("/api/v2/certificates", headers=other))["items"] == []
    for path in ("/api/v2/certificates/cert-1", "/api/admin/v1/certificates/cert-1"):
        error(client.get(path, headers=other), 404, "not_found")
    error(client.get("/api/v1/certificates/users/ana", headers=other), 404, "not_found")
    body = {"certificateIdentifier": "cert-1", "isRequired": True, "userIdentifier": "ana"}
    error(client.put("/api/v1/certificates/compliance", json=body, headers=other), 404, "not_found")
    error(client.post("/api/admin/v1/certificates/cert-1/users/ana/revoke", headers=other), 404, "not_found")
    # Another account's certificate of the same id is its own.
    assert ok(put_certificate(client, other, courseIds=[]), 201)["courseIds"] == []
    assert ok(client.get("/api/v2/certificates/cert-1", headers=headers))["courseIds"] == ["course-a"]


# --- the PDF -----------------------------------------------------------------------------


def test_pdf_opens_without_a_token_and_names_the_learner(client, headers, courses):
    ok(
        put_certificate(
            client,
            headers,
            name="Forklift safety",
            courseIds=["course-a"],
            expiration={"duration": 1, "period": "YEAR"},
        ),
        201,
    )
    certified_at = datetime(2026, 1, 3, 10, tzinfo=UTC)
    finish(client, headers, "course-a", certified_at)
    found = state_of(client, headers)
    url = found["pdfUrl"]
    assert url.startswith(PDF_PREFIX)
    response = client.get(url.removeprefix("https://lms.example.test"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Ana Souza" in text
    assert "Forklift safety" in text
    assert "3 January 2026" in text and "3 January 2027" in text
    # The token reveals nothing readable: its bytes are encrypted (its base64 text may spell
    # anything by chance, so the bytes it encodes are what is checked).
    token = url.removeprefix(PDF_PREFIX)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert not any(word in raw for word in (b"ana", b"Ana", b"Souza", b"cert-1", b"course-a"))


def test_pdf_link_refuses_tampered_expired_and_no_longer_certified(client, headers, courses, context, db):
    ok(put_certificate(client, headers, courseIds=["course-a"]), 201)
    finish(client, headers, "course-a", days_ago(1))
    url = state_of(client, headers)["pdfUrl"]
    path = url.removeprefix("https://lms.example.test")
    assert client.get(path).status_code == 200
    tampered = path[:-6] + ("A" if path[-6] != "A" else "B") + path[-5:]
    error(client.get(tampered), 404, "not_found")
    error(client.get("/api/v1/certificates/pdf/not-a-token"), 404, "not_found")
    # A link older than 7 days has expired.
    fernet = Fernet(context.keyring.fernet_key("certificate-pdf"))
    payload = fernet.decrypt(path.removeprefix("/api/v1/certificates/pdf/").encode())
    assert set(json.loads(payload)) == {"u", "c", "d"}
    old = fernet.encrypt_at_time(payload, int(time.time()) - 8 * 24 * 3600).decode()
    error(client.get(f"/api/v1/certificates/pdf/{old}"), 404, "not_found")
    fresh = fernet.encrypt_at_time(payload, int(time.time()) - 6 * 24 * 3600).decode()
    assert client.get(f"/api/v1/certificates/pdf/{fresh}").status_code == 200
    # A token naming another learner, another certificate or another certification finds nothing.
    for changed in ({"u": uuid.uuid4().hex}, {"c": uuid.uuid4().hex}, {"d": json.loads(payload)["d"] + 1}):
        forged = fernet.encrypt(json.dumps(json.loads(payload) | changed).encode()).decode()
        error(client.get(f"/api/v1/certificates/pdf/{forged}"), 404, "not_found")
    # Un-completing an item means the learner is no longer certified.
    complete(client, headers, "ana", "course-a", "i1", days_ago(0), completed=False)
    error(client.get(path), 404, "not_found")


def test_pdf_route_is_documented_as_public(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/certificates/pdf/{token}"]["get"]
    assert operation["tags"] == ["Certificates"]
    assert "security" not in operation
    assert "no bearer token" in operation["description"].lower()
    assert "application/pdf" in operation["responses"]["200"]["content"]
    assert spec["paths"]["/api/v1/certificates/users/{externalUserId}"]["get"]["security"]
