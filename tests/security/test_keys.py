"""Signing keys and credentials at rest (RFC 8725 3.1, 3.5; OWASP API2).

A server process runs on a database of its own (committed, as in production) while the operator
rotates keys with ``enabley keys rotate``: the server reads keys from the database, so new tokens
carry the new ``kid`` without a restart, and tokens of the previous key keep working until they
expire. Time is never waited for: where a key must be old, its ``created_at`` is moved back.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, select, text, update
from typer.testing import CliRunner

from enabley import security
from enabley.auth import service as auth_service
from enabley.cli import app as cli
from enabley.config import get_settings
from enabley.db.base import Base
from enabley.main import create_app
from enabley.models import ApiClient, SigningKey
from tests import factories
from tests.conftest import settings_for

runner = CliRunner()
TTL = 3600


def run(*args: str):
    return runner.invoke(cli, list(args))


class Server:
    """A running app on a committed database, and the operator's command line beside it."""

    def __init__(self, url: str, client: TestClient) -> None:
        self.url = url
        self.client = client
        self.engine = create_engine(url)
        created = run("accounts", "create", "keyed")
        assert created.exit_code == 0, created.output
        made = run("clients", "create", "keyed", "--json")
        assert made.exit_code == 0, made.output
        credentials = json.loads(made.stdout)
        self.key, self.secret = credentials["clientKey"], credentials["secret"]

    def token(self) -> str:
        response = self.client.post("/api/v1/token", params={"clientKey": self.key, "secret": self.secret})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def call(self, token: str, client: TestClient | None = None) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return (client or self.client).get("/api/v2/users", headers=headers).status_code

    def keys(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(SigningKey.kid, SigningKey.secret)).all())

    def age_keys(self, seconds: int) -> None:
        """Every key was created ``seconds`` earlier than it was: as if that time had passed."""
        with self.engine.begin() as conn:
            for kid, created in conn.execute(select(SigningKey.kid, SigningKey.created_at)).all():
                conn.execute(
                    update(SigningKey)
                    .where(SigningKey.kid == kid)
                    .values(created_at=created - timedelta(seconds=seconds))
                )

    def forge(self, kid: str, secret: str) -> str:
        """A token as the server would sign it with ``kid``, never sent to it before."""
        settings = settings_for(self.url)
        return security.issue_token(
            settings, kid=kid, secret=secret.encode(), client_key=self.key, account="keyed"
        )


@pytest.fixture
def server(scratch, monkeypatch) -> Iterator[Server]:
    url = scratch.new()
    monkeypatch.setenv("ENABLEY_DATABASE_URL", url)
    monkeypatch.delenv("ENABLEY_JWT_SECRET", raising=False)
    get_settings.cache_clear()
    assert run("db", "upgrade").exit_code == 0
    app = create_app(settings_for(url, rate_limit=0, token_ttl_seconds=TTL))
    with TestClient(app) as client:
        server = Server(url, client)
        yield server
        server.engine.dispose()
    get_settings.cache_clear()


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def test_tokens_carry_the_kid_of_the_newest_key(server):
    [first] = server.keys()
    token = server.token()
    assert kid_of(token) == first
    assert server.call(token) == 200


def test_after_a_rotation_a_running_server_signs_with_the_new_key_and_still_accepts_the_old(server):
    [first] = server.keys()
    before = server.token()
    rotated = run("keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    [new] = set(server.keys()) - {first}
    assert rotated.stdout.strip() == f"new signing key {new} is in use"

    after = server.token()
    assert kid_of(after) == new
    assert server.call(after) == 200
    assert server.call(before) == 200
    # Not a cached verification: a token of the previous key this server has never seen.
    assert server.call(server.forge(first, server.keys()[first])) == 200


def test_a_later_rotation_drops_a_key_whose_tokens_have_all_expired(server):
    [first] = server.keys()
    first_secret = server.keys()[first]
    old_token = server.token()
    assert run("keys", "rotate").exit_code == 0
    [second] = set(server.keys()) - {first}
    # The second key has now signed for longer than a token lives: nothing of the first can be valid.
    server.age_keys(TTL + 120)
    assert run("keys", "rotate").exit_code == 0
    kept = server.keys()
    assert first not in kept and second in kept and len(kept) == 2
    # Signing with the newest key makes the running server load the keys as they now are.
    assert server.call(server.token()) == 200
    # The previous key survives the rotation that replaced it, and its tokens stay valid.
    assert server.call(server.forge(second, kept[second])) == 200

    assert server.call(server.forge(first, first_secret)) == 401
    with TestClient(create_app(settings_for(server.url, rate_limit=0))) as restarted:
        assert server.call(old_token, restarted) == 401
        assert server.call(server.token(), restarted) == 200


@contextmanager
def database_touches(engine) -> Iterator[list[str]]:
    """Every connection ``engine``'s pool hands out, and every statement run through it, in the block."""
    touches: list[str] = []

    def checkout(*_args) -> None:
        touches.append("checkout")

    def statement(_conn, _cursor, sql, *_args) -> None:
        touches.append(sql)

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield touches
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "before_cursor_execute", statement)


def test_tokens_with_made_up_kids_are_refused_without_touching_the_database(server):
    assert run("keys", "rotate").exit_code == 0
    real = max(server.keys(), key=len)
    kids = [f"k{secrets.token_hex(6)}" for _ in range(100)]
    kids += [secrets.token_urlsafe(len(real))[: len(real)] for _ in range(100)]
    # Shaped like a real kid, one character off.
    kids += [real[:i] + ("0" if real[i] != "0" else "1") + real[i + 1 :] for i in range(len(real))]
    kids += [f"{real}{i}" for i in range(300 - len(kids))]
    engine = server.client.app.state.context.db.engine
    with database_touches(engine) as touches:
        statuses = [server.call(server.forge(kid, secrets.token_hex(32))) for kid in kids]
    assert len(kids) == 300 and set(statuses) == {401}
    assert touches == []


def test_a_key_rotated_by_another_process_is_accepted_at_its_first_token(server):
    # Made-up kids refused just before must not hold up a real new one.
    assert server.call(server.forge(f"k{secrets.token_hex(6)}", secrets.token_hex(32))) == 401
    before = set(server.keys())
    assert run("keys", "rotate").exit_code == 0
    [new] = set(server.keys()) - before
    # A token of the new key that this process did not issue (another process signed it).
    assert server.call(server.forge(new, server.keys()[new])) == 200


def test_a_dropped_key_is_looked_up_once_however_often_its_tokens_come_back(server):
    for _ in range(2):
        assert run("keys", "rotate").exit_code == 0
    keys = server.keys()
    [dropped] = sorted(set(keys) - {security.FIRST_KID}, key=lambda kid: _created(server, kid))[:1]
    server.age_keys(TTL + 120)
    assert run("keys", "rotate").exit_code == 0
    assert dropped not in set(server.keys())
    assert server.call(server.token()) == 200  # this process now signs with the newest key
    token = server.forge(dropped, keys[dropped])
    engine = server.client.app.state.context.db.engine
    with database_touches(engine) as touches:
        assert {server.call(token) for _ in range(50)} == {401}
    assert touches.count("checkout") <= 1


def _created(server, kid: str):
    with server.engine.connect() as conn:
        return conn.execute(select(SigningKey.created_at).where(SigningKey.kid == kid)).scalar_one()


def test_rotation_is_refused_while_the_key_comes_from_the_environment(server, monkeypatch):
    before = server.keys()
    monkeypatch.setenv("ENABLEY_JWT_SECRET", "s" * 40)
    get_settings.cache_clear()
    result = run("keys", "rotate")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: signing keys come from ENABLEY_JWT_SECRET; change that variable to rotate"
    ]
    assert server.keys() == before


def test_a_key_from_the_environment_signs_as_kid_env(app_with, db, account):
    client = app_with(jwt_secret="e" * 40)
    key, secret = factories.make_client(db, account)
    token = client.post("/api/v1/token", params={"clientKey": key, "secret": secret}).json()["access_token"]
    assert kid_of(token) == security.ENV_KID
    assert jwt.decode(token, "e" * 40, algorithms=["HS256"], audience="enabley-api")["sub"] == key
    assert client.get("/api/v2/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    "header",
    [{"alg": "HS256"}, {"alg": "HS512", "kid": "k1"}, {"alg": "HS384", "kid": "k1"}],
    ids=["no-kid", "hs512", "hs384"],
)
def test_a_token_without_a_kid_or_with_another_algorithm_is_refused(client, db, account, context, header):
    key, _ = factories.make_client(db, account)
    now = int(time.time())
    claims = {
        "iss": context.settings.jwt_issuer,
        "aud": context.settings.jwt_audience,
        "sub": key,
        "iat": now,
        "exp": now + 600,
    }
    signing_key = context.keyring.key("k1")
    token = jwt.encode(
        claims, signing_key, algorithm=header["alg"], headers={k: v for k, v in header.items() if k != "alg"}
    )
    assert jwt.get_unverified_header(token).get("kid") == header.get("kid")
    response = client.get("/api/v2/users", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()["error"]) == (401, "access_denied")
    control = jwt.encode(claims, signing_key, algorithm="HS256", headers={"kid": "k1"})
    assert client.get("/api/v2/users", headers={"Authorization": f"Bearer {control}"}).status_code == 200


@pytest.fixture
def compared(monkeypatch) -> list[tuple[str, str]]:
    """Every hmac.compare_digest call the credential check makes, with its arguments."""
    calls: list[tuple[str, str]] = []
    original = hmac.compare_digest

    def counting(a, b):
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", counting)
    return calls


@pytest.mark.parametrize("case", ["right-secret", "wrong-secret", "unknown-key", "revoked"])
def test_every_token_request_compares_one_secret_hash_in_constant_time(app_with, db, account, compared, case):
    # An app of its own: failed token requests count against the client address of the app.
    client = app_with()
    key, secret = factories.make_client(db, account)
    params = {
        "right-secret": {"clientKey": key, "secret": secret},
        "wrong-secret": {"clientKey": key, "secret": secret[:-1] + ("A" if secret[-1] != "A" else "B")},
        "unknown-key": {"clientKey": "no-such-client-key", "secret": secret},
        "revoked": {"clientKey": key, "secret": secret},
    }[case]
    if case == "revoked":
        auth_service.revoke_client(db, key)
        db.flush()
    response = client.post("/api/v1/token", params=params)
    assert response.status_code == (200 if case == "right-secret" else 401), response.text
    # One comparison of two hex digests of the same length, whether the client exists or not.
    assert len(compared) == 1
    [(candidate, stored)] = compared
    assert len(candidate) == len(stored) == 64


def test_secrets_are_kept_only_as_hashes(client, db, account, headers):
    key, secret = factories.make_client(db, account)
    password = "a long and unguessable passphrase"
    body = factories.user_body(password=password)
    created = client.put("/api/v2/users", json=body, headers=headers)
    assert created.status_code == 201
    read = client.get(f"/api/v2/users/{body['identifier']}", headers=headers)
    for answer in (created, read):
        assert password not in answer.text and "argon2" not in answer.text and "password" not in answer.json()
    stored = db.scalar(select(ApiClient.secret_hash).where(ApiClient.client_key == key))
    assert stored == security.hash_client_secret(secret) != secret
    assert hmac.new(b"enabley.client-secret.v1", secret.encode(), "sha256").hexdigest() == stored
    password_hash = db.execute(
        text("SELECT password_hash FROM users WHERE external_id = :i"), {"i": body["identifier"]}
    ).scalar_one()
    assert password_hash.startswith("$argon2id$")
    # Neither the secret nor the password is anywhere in the database.
    conn = db.connection()
    for table in Base.metadata.sorted_tables:
        for row in conn.execute(select(table)):
            for value in row:
                assert secret not in str(value) and password not in str(value), (table.name, value)


def test_token_lifetime_is_bounded_and_the_clock_is_checked_on_every_call(
    client, db, account, context, monkeypatch
):
    """exp - iat is the configured lifetime; a token whose exp passes stops working even when cached."""
    key, secret = factories.make_client(db, account)
    token = client.post("/api/v1/token", params={"clientKey": key, "secret": secret}).json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == context.settings.token_ttl_seconds
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v2/users", headers=headers).status_code == 200
    later = time.time() + context.settings.token_ttl_seconds + 1
    monkeypatch.setattr(security.time, "time", lambda: later)
    response = client.get("/api/v2/users", headers=headers)
    monkeypatch.undo()
    assert response.status_code == 401
    assert response.json()["error_description"] == "The access token has expired"
