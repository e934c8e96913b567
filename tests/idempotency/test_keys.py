"""Idempotency-Key on the API's writes (draft-ietf-httpapi-idempotency-key-header): a retry with
the same key replays the first answer without running again; another request with the key is
422; keys belong to their API client and last a day; only final answers are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from enabley.db.columns import utcnow
from enabley.errors import ServiceUnavailable
from enabley.idempotency import purge_idempotency_keys, rules
from enabley.models import IdempotencyKey, User
from enabley.users import service as users_service
from tests import factories
from tests.factories import user_body

USERS = "/api/v2/users"


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def replayed(response) -> bool:
    return response.headers.get("idempotency-replayed") == "true"


def test_a_retry_replays_the_first_answer_without_running_again(client, headers, db):
    body = user_body("u-replay")
    first = client.put(USERS, json=body, headers=keyed(headers, "k-1"))
    assert first.status_code == 201, first.text
    assert not replayed(first)

    again = client.put(USERS, json=body, headers=keyed(headers, "k-1"))
    assert again.status_code == 201, "replayed: a second run would have answered 200 (updated)"
    assert replayed(again)
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    count = db.scalar(select(func.count()).select_from(User).where(User.external_id == "u-replay"))
    assert count == 1
    # Without the key the same request runs: the user exists, so it is an update.
    assert client.put(USERS, json=body, headers=headers).status_code == 200


def test_a_create_that_would_conflict_on_a_retry_runs_once(client, headers):
    client.put("/api/admin/v1/masterChannels", json={"identifier": "m1", "name": "M"}, headers=headers)
    body = {"identifier": "i1", "masterCourseIdentifier": "m1"}
    path = "/api/v2/channels/master/instance"
    first = client.put(path, json=body, headers=keyed(headers, "instance-1"))
    assert first.status_code == 201, first.text
    retry = client.put(path, json=body, headers=keyed(headers, "instance-1"))
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert replayed(retry)
    assert client.put(path, json=body, headers=headers).status_code == 409, "it ran once"


def test_a_delete_is_replayed(client, headers):
    client.put(USERS, json=user_body("u-gone"), headers=headers)
    first = client.delete(f"{USERS}/u-gone", headers=keyed(headers, "del-1"))
    assert first.status_code == 200, first.text
    retry = client.delete(f"{USERS}/u-gone", headers=keyed(headers, "del-1"))
    assert retry.status_code == 200 and replayed(retry)
    assert client.delete(f"{USERS}/u-gone", headers=headers).status_code == 404


def test_the_key_with_a_different_request_is_422(client, headers):
    assert client.put(USERS, json=user_body("u-a"), headers=keyed(headers, "k-2")).status_code == 201
    for method, path, body in (
        ("PUT", USERS, user_body("u-a", firstName="Other")),
        ("PUT", f"{USERS}?x=1", user_body("u-a")),
        ("DELETE", f"{USERS}/u-a", None),
    ):
        response = client.request(method, path, json=body, headers=keyed(headers, "k-2"))
        assert response.status_code == 422, (method, path, response.text)
        error = response.json()
        assert error["error"] == "invalid_request"
        assert "Idempotency-Key 'k-2'" in error["error_description"]
        assert "different request" in error["error_description"]
    assert client.get(f"{USERS}/u-a", headers=headers).json()["firstName"] == "Ana", "nothing ran"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "empty"),
        ("a b", "without spaces"),
        ("x" * 256, "longer than 255"),
        ('"a\\x"', "invalid escape"),
        ('"\x01"', "visible ASCII"),
    ],
)
def test_a_malformed_key_is_400(client, headers, value, problem):
    response = client.put(USERS, json=user_body(), headers={**headers, "Idempotency-Key": value})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert problem in response.json()["error_description"]


def test_a_quoted_key_and_a_bare_one_are_the_same_key(client, headers):
    body = user_body("u-quoted")
    assert client.put(USERS, json=body, headers=keyed(headers, '"k-q"')).status_code == 201
    retry = client.put(USERS, json=body, headers=keyed(headers, "k-q"))
    assert retry.status_code == 201 and replayed(retry)


def test_keys_belong_to_their_api_client(client, headers, auth, db, account):
    body = user_body("u-scope")
    assert client.put(USERS, json=body, headers=keyed(headers, "shared")).status_code == 201
    same_account = client.put(USERS, json=body, headers=keyed(auth(account), "shared"))
    assert same_account.status_code == 200 and not replayed(same_account), "it ran: an update"
    other_account = client.put(USERS, json=body, headers=keyed(auth(factories.make_account(db)), "shared"))
    assert other_account.status_code == 201 and not replayed(other_account), "it ran: a create"


def test_a_key_expires_after_a_day(client, headers, app, db):
    keys = app.state.idempotency
    body = user_body("u-expiry")
    assert client.put(USERS, json=body, headers=keyed(headers, "k-day")).status_code == 201
    try:
        keys.clock = lambda: utcnow() + timedelta(hours=23, minutes=59)
        assert replayed(client.put(USERS, json=body, headers=keyed(headers, "k-day")))
        keys.clock = lambda: utcnow() + timedelta(hours=24, seconds=1)
        later = client.put(USERS, json=body, headers=keyed(headers, "k-day"))
        assert later.status_code == 200 and not replayed(later), "the key was new again: it ran"
    finally:
        keys.clock = utcnow
    assert client.put(USERS, json=user_body("u-other"), headers=keyed(headers, "k-old")).status_code == 201
    # The worker's sweep: keys claimed more than a day before ``now`` go.
    conn = db.connection()
    assert purge_idempotency_keys(conn, utcnow() + timedelta(hours=1)) == 0
    assert purge_idempotency_keys(conn, utcnow() + timedelta(hours=24, minutes=1)) == 1
    assert purge_idempotency_keys(conn, utcnow() + timedelta(hours=48, minutes=1)) == 1
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_a_server_error_gives_the_key_back(client, headers, monkeypatch):
    real = users_service.put_user
    failures = iter([ServiceUnavailable("The database is unavailable; retry later")])

    def failing_once(*args, **kwargs):
        for failure in failures:
            raise failure
        return real(*args, **kwargs)

    monkeypatch.setattr(users_service, "put_user", failing_once)
    body = user_body("u-5xx")
    assert client.put(USERS, json=body, headers=keyed(headers, "k-5xx")).status_code == 503
    retry = client.put(USERS, json=body, headers=keyed(headers, "k-5xx"))
    assert retry.status_code == 201 and not replayed(retry), "the 503 was not kept: the retry ran"


def test_an_unexpected_error_gives_the_key_back(app, headers, monkeypatch, client):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(users_service, "put_user", broken)
    body = user_body("u-500")
    quiet = TestClient(app, raise_server_exceptions=False)
    assert quiet.put(USERS, json=body, headers=keyed(headers, "k-500")).status_code == 500
    monkeypatch.undo()
    assert client.put(USERS, json=body, headers=keyed(headers, "k-500")).status_code == 201


def test_a_final_4xx_is_kept_and_a_transient_one_is_not(client, headers):
    path = "/api/v2/channels/master/instance"
    body = {"identifier": "i2", "masterCourseIdentifier": "m2"}
    assert client.put(path, json=body, headers=keyed(headers, "k-404")).status_code == 404
    client.put("/api/admin/v1/masterChannels", json={"identifier": "m2", "name": "M"}, headers=headers)
    kept = client.put(path, json=body, headers=keyed(headers, "k-404"))
    assert kept.status_code == 404 and replayed(kept), "a 404 is final: the retry gets it again"

    assert client.put(path, json=body, headers=headers).status_code == 201
    conflict = client.put(path, json=body, headers=keyed(headers, "k-409"))
    assert conflict.status_code == 409, conflict.text
    again = client.put(path, json=body, headers=keyed(headers, "k-409"))
    assert again.status_code == 409 and not replayed(again), "a 409 depends on the moment: it ran again"


def test_an_upload_is_keyed_on_its_streamed_body(client, headers):
    body = {"files": [{"fileName": "users.csv", "content": "identifier,email\nup-1,up-1@example.com\n"}]}
    path = "/api/v1/uploads/org"
    first = client.post(path, json=body, headers=keyed(headers, "up-1"))
    assert first.status_code == 200, first.text
    retry = client.post(path, json=body, headers=keyed(headers, "up-1"))
    assert (retry.status_code, retry.content) == (200, first.content)
    assert replayed(retry)
    other = {"files": [{"fileName": "users.csv", "content": "identifier,email\nup-2,up-2@example.com\n"}]}
    assert client.post(path, json=other, headers=keyed(headers, "up-1")).status_code == 422
    assert client.get(f"{USERS}/up-2", headers=headers).status_code == 404


def test_reads_and_the_token_request_ignore_the_header(client, headers, db, account):
    key, secret = factories.make_client(db, account)
    for _ in range(2):
        response = client.post(
            "/api/v1/token", params={"clientKey": key, "secret": secret}, headers={"Idempotency-Key": "t"}
        )
        assert response.status_code == 200 and not replayed(response)
    assert client.get(USERS, headers=keyed(headers, "a b")).status_code == 200
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_an_answer_too_large_to_keep(client, headers, monkeypatch):
    monkeypatch.setattr(rules, "MAX_KEPT_BODY", 64)
    body = user_body("u-large")
    assert client.put(USERS, json=body, headers=keyed(headers, "k-large")).status_code == 201
    retry = client.put(USERS, json=body, headers=keyed(headers, "k-large"))
    assert retry.status_code == 422, "a 2xx too large to replay is not run again either"
    assert "larger than the 64 bytes kept" in retry.json()["error_description"]
    assert "status 201" in retry.json()["error_description"]

    missing = {"identifier": "i9", "masterCourseIdentifier": "no-such-master-" + "x" * 64}
    path = "/api/v2/channels/master/instance"
    assert client.put(path, json=missing, headers=keyed(headers, "k-large-404")).status_code == 404
    again = client.put(path, json=missing, headers=keyed(headers, "k-large-404"))
    assert again.status_code == 404 and not replayed(again), "a 4xx wrote nothing: it runs again"


def test_which_answers_are_kept():
    assert all(rules.kept(status) for status in (200, 201, 204, 400, 403, 404, 405, 413, 422))
    assert not any(rules.kept(status) for status in (401, 408, 409, 425, 429, 499, 500, 503))


def test_refusals_before_the_route_keep_nothing(client, headers, db):
    # No token: the route's 401, the key untouched. A NUL in the body: the request limits' 400.
    no_token = client.put(USERS, json=user_body("u-anon"), headers={"Idempotency-Key": "k-anon"})
    assert no_token.status_code == 401
    nul = client.put(
        USERS,
        content=b'{"identifier": "u-nul\\u0000"}',
        headers={**keyed(headers, "k-nul"), "Content-Type": "application/json"},
    )
    assert nul.status_code == 400 and "NUL" in nul.json()["error_description"]
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_the_worker_purges_keys_once_a_day_old(client, headers, app_database):
    from types import SimpleNamespace

    from enabley.worker import tasks

    assert any(task.func is tasks.purge_idempotency_keys for task in tasks.TASKS)
    assert client.put(USERS, json=user_body("u-swept"), headers=keyed(headers, "k-swept")).status_code == 201
    context = SimpleNamespace(db=app_database)
    assert tasks.purge_idempotency_keys(context, utcnow() + timedelta(hours=23)) == 0
    assert tasks.purge_idempotency_keys(context, utcnow() + timedelta(hours=25)) == 1


def test_an_upload_job_is_queued_once(client, headers):
    body = {"files": [{"fileName": "users.csv", "content": "identifier,email\njob-1,job-1@example.com\n"}]}
    path = "/api/v1/uploads/org?async=true"
    first = client.post(path, json=body, headers=keyed(headers, "job-1"))
    assert first.status_code == 202, first.text
    retry = client.post(path, json=body, headers=keyed(headers, "job-1"))
    assert retry.status_code == 202 and replayed(retry)
    assert retry.json()["jobId"] == first.json()["jobId"], "one job, not two"
