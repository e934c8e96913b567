"""Tokens: how clients get them, what the server accepts, what it refuses."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from enabley.auth import service as auth_service
from enabley.security import ALGORITHM
from tests import factories


@pytest.fixture
def credentials(db, account):
    return factories.make_client(db, account)


def _token(client, **kwargs):
    return client.post("/api/v1/token", **kwargs)


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_token_from_query_string(client, credentials, context):
    key, secret = credentials
    r = _token(client, params={"clientKey": key, "secret": secret})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == context.settings.token_ttl_seconds * 1000
    claims = _claims(body["access_token"])
    assert claims["sub"] == key
    assert claims["exp"] - claims["iat"] == context.settings.token_ttl_seconds
    assert jwt.get_unverified_header(body["access_token"])["kid"]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"json": []},
        {"content": b"not json at all", "headers": {"Content-Type": "application/json"}},
        {"content": b"", "headers": {"Content-Type": "application/json"}},
        {"json": {"unrelated": 1}},
    ],
    ids=["no-body", "json-array", "non-json-body", "empty-json-body", "other-object"],
)
def test_query_credentials_work_whatever_the_body(client, credentials, extra):
    key, secret = credentials
    r = _token(client, params={"clientKey": key, "secret": secret}, **extra)
    assert r.status_code == 200, r.text


def test_token_from_json_body_only(client, credentials):
    key, secret = credentials
    r = _token(client, json={"clientKey": key, "secret": secret})
    assert r.status_code == 200, r.text


def test_query_is_read_before_the_body(client, credentials):
    key, secret = credentials
    r = _token(
        client, params={"clientKey": key, "secret": secret}, json={"clientKey": key, "secret": "wrong"}
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    "params", [{}, {"clientKey": "abc"}, {"secret": "abc"}, {"clientKey": "", "secret": ""}], ids=str
)
def test_missing_credentials_are_400(client, params):
    r = _token(client, params=params)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert "clientKey" in r.json()["error_description"]


def test_wrong_secret_unknown_key_and_revoked_client_are_invalid_client(client, db, credentials):
    key, secret = credentials
    for params in ({"clientKey": key, "secret": secret + "x"}, {"clientKey": "nope", "secret": secret}):
        r = _token(client, params=params)
        assert (r.status_code, r.json()["error"]) == (401, "invalid_client")
        assert r.headers["WWW-Authenticate"] == "Bearer"
    auth_service.revoke_client(db, key)
    db.flush()
    r = _token(client, params={"clientKey": key, "secret": secret})
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")


def test_error_bodies_never_echo_the_secret(client, credentials):
    key, secret = credentials
    r = _token(client, params={"clientKey": key, "secret": secret + "x"})
    assert secret not in r.text


def test_overlong_credentials_are_400(client):
    r = _token(client, params={"clientKey": "k" * 600, "secret": "s"})
    assert r.status_code == 400
    assert "clientKey" in r.json()["error_description"]


def test_new_tokens_do_not_revoke_earlier_ones_and_work_in_parallel(client, credentials):
    key, secret = credentials
    tokens = [
        _token(client, params={"clientKey": key, "secret": secret}).json()["access_token"] for _ in range(3)
    ]
    assert len(set(tokens)) == 3

    def call(token: str) -> int:
        return client.get("/api/v2/users", headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(call, tokens * 4))
    assert statuses == [200] * 12


def _denied(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "access_denied"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer a.b.c", "Token abc"],
    ids=repr,
)
def test_missing_or_malformed_bearer_is_access_denied(client, header):
    headers = {"Authorization": header} if header is not None else {}
    _denied(client.get("/api/v2/users", headers=headers))


def _forge(context, credentials, **changes) -> str:
    key, _ = credentials
    now = int(time.time())
    payload = {
        "iss": context.settings.jwt_issuer,
        "aud": context.settings.jwt_audience,
        "sub": key,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    secret = changes.pop("secret", None)
    kid = changes.pop("kid", "k1")
    payload.update(changes)
    payload = {k: v for k, v in payload.items() if v is not None}
    signing_key = secret if secret is not None else context.keyring.key("k1")
    return jwt.encode(payload, signing_key, algorithm=ALGORITHM, headers={"kid": kid})


def test_a_correctly_forged_token_is_accepted(client, context, credentials):
    # The control for the refusals below: same construction, nothing wrong with it.
    token = _forge(context, credentials)
    assert client.get("/api/v2/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 10},
        {"nbf": int(time.time()) + 3600},
        {"iat": None},
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"secret": b"x" * 32},
        {"kid": "unknown-kid"},
        {"sub": "no-such-client"},
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "no-iat",
        "issuer",
        "audience",
        "other-key",
        "unknown-kid",
        "unknown-client",
    ],
)
def test_unacceptable_tokens_are_access_denied(client, context, credentials, changes):
    token = _forge(context, credentials, **changes)
    _denied(client.get("/api/v2/users", headers={"Authorization": f"Bearer {token}"}))


def test_alg_none_and_edited_payload_are_refused(client, context, credentials):
    token = _forge(context, credentials)
    header, _payload, signature = token.split(".")
    unsigned = jwt.encode(_claims(token), None, algorithm="none", headers={"kid": "k1"})
    _denied(client.get("/api/v2/users", headers={"Authorization": f"Bearer {unsigned}"}))
    other = _forge(context, credentials, sub="someone-else")
    edited = ".".join([header, other.split(".")[1], signature])
    _denied(client.get("/api/v2/users", headers={"Authorization": f"Bearer {edited}"}))


def test_absurdly_large_token_is_refused(client):
    _denied(client.get("/api/v2/users", headers={"Authorization": "Bearer " + "a" * 20_000}))


def test_revoked_client_tokens_stop_working_at_once(client, db, credentials):
    key, secret = credentials
    token = _token(client, params={"clientKey": key, "secret": secret}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v2/users", headers=headers).status_code == 200
    assert client.get("/api/v2/users/nobody", headers=headers).status_code == 404
    auth_service.revoke_client(db, key)
    db.flush()
    _denied(client.get("/api/v2/users", headers=headers))
    _denied(client.get("/api/v2/users/nobody", headers=headers))
    _denied(client.put("/api/v2/users", json=factories.user_body(), headers=headers))


def test_deleted_account_tokens_stop_working(client, db, account, headers):
    assert client.get("/api/v2/users", headers=headers).status_code == 200
    db.delete(account)
    db.flush()
    _denied(client.get("/api/v2/users", headers=headers))
    _denied(client.get("/api/v2/users/anyone", headers=headers))
