"""Token renewal against the real application."""

from __future__ import annotations

from types import SimpleNamespace

import httpx2
import jwt
import pytest

from enabley import security
from enabley.auth import service as auth_service
from enabley.client import Client, Unauthorized, UserData
from tests.client.conftest import BASE_URL, FakeClock


def test_renews_the_token_before_it_expires_by_its_own_clock(sdk, clock):
    first = sdk.token()
    clock.advance(3600 - 61)  # the server's tokens live 3600 s; renewed in their last minute
    assert sdk.token() == first
    clock.advance(2)
    second = sdk.token()
    assert second != first
    _, created = sdk.users.upsert(UserData(identifier="ana"))
    assert created


def _expired_copy(token: str, context, account) -> str:
    """A token signed like ``token`` by the server's own key, but expired two minutes ago."""
    kid = jwt.get_unverified_header(token)["kid"]
    settings = SimpleNamespace(
        jwt_issuer=context.settings.jwt_issuer,
        jwt_audience=context.settings.jwt_audience,
        token_ttl_seconds=-120,
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    key = context.keyring.key(kid)
    return security.issue_token(settings, kid=kid, secret=key, client_key=claims["sub"], account=account.name)


def test_renews_a_token_the_server_considers_expired_and_repeats_the_call(
    client, credentials, context, account
):
    """The first token handed to the SDK has expired (as after a suspended laptop): the server answers
    401 access_denied, and the SDK gets a new token and repeats the call once."""
    key, secret = credentials
    sent: list[tuple[str, int]] = []
    stale: list[str] = []

    def server(request: httpx2.Request) -> httpx2.Response:
        response = client.request(
            request.method, str(request.url), headers=dict(request.headers), content=request.read()
        )
        if request.url.path == "/api/v1/token" and not stale:
            stale.append(_expired_copy(response.json()["access_token"], context, account))
            response = httpx2.Response(200, json={**response.json(), "access_token": stale[0]})
        sent.append((request.url.path, response.status_code))
        return response

    http = httpx2.Client(transport=httpx2.MockTransport(server))
    with Client(BASE_URL, key, secret, http=http, clock=FakeClock()) as sdk:
        _, created = sdk.users.upsert(UserData(identifier="ana"))
        assert created
        assert sdk.token() != stale[0]
    assert sent == [
        ("/api/v1/token", 200),
        ("/api/v2/users", 401),
        ("/api/v1/token", 200),
        ("/api/v2/users", 201),
    ]


def test_a_revoked_client_raises_unauthorized_invalid_client(sdk, db, credentials):
    sdk.users.upsert(UserData(identifier="ana"))
    auth_service.revoke_client(db, credentials[0])
    db.flush()
    with pytest.raises(Unauthorized) as caught:
        sdk.users.get("ana")
    assert (caught.value.status, caught.value.error) == (401, "invalid_client")


def test_a_wrong_secret_raises_unauthorized(client, credentials):
    with Client(BASE_URL, credentials[0], "wrong", http=client) as sdk, pytest.raises(Unauthorized) as caught:
        sdk.users.get("ana")
    assert caught.value.error == "invalid_client"
    assert "Invalid clientKey or secret" in str(caught.value)
