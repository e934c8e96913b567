"""SCIM tokens: 401 bodies, revocation on the next call, throttled failures, sub-account scope,
and the CLI that makes them."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from enabley.cli import app
from enabley.models import ScimToken
from enabley.scim import tokens
from tests import test_cli
from tests.factories import make_account
from tests.scim.conftest import assert_error, user

cli_db = test_cli.cli_db

runner = CliRunner()


def test_missing_or_wrong_token_is_a_scim_401(client):
    response = client.get("/scim/v2/Users")
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.get("/scim/v2/Users", headers={"Authorization": "Bearer scim_wrong"}), 401)
    assert_error(client.get("/scim/v2/ServiceProviderConfig", headers={"Authorization": "Basic eDp5"}), 401)


def test_requests_refused_before_any_route_are_scim_errors_too(client, scim):
    """The request limits answer before routing: under /scim/v2 in SCIM's shape all the same."""
    body = assert_error(
        client.get("/scim/v2/Users", params={"filter": 'userName eq "a\x00"'}, headers=scim), 400
    )
    assert "NUL" in body["detail"]
    huge = {"Content-Length": str(10**9), "Content-Type": "application/scim+json"}
    assert_error(client.post("/scim/v2/Users", content=b"{}", headers={**scim, **huge}), 413)
    assert "error" in client.get("/api/v2/users", params={"firstName": "\x00"}).json(), (
        "the API keeps its shape"
    )


def test_an_access_token_is_not_a_scim_token(client, headers):
    assert_error(client.get("/scim/v2/Users", headers=headers), 401)


def test_a_scim_token_is_not_an_access_token(client, scim):
    response = client.get("/api/v1/groups/list", headers=scim)
    assert response.status_code == 401
    assert "error" in response.json(), "the integration API keeps its own error shape"


def test_revocation_takes_effect_on_the_next_call(client, db, account, scim):
    assert client.get("/scim/v2/Users", headers=scim).status_code == 200
    stored = db.scalar(select(ScimToken).where(ScimToken.account_id == account.id))
    assert stored.last_used_at is not None
    tokens.revoke_token(db, stored.public_id)
    db.flush()
    assert_error(client.get("/scim/v2/Users", headers=scim), 401)


def test_a_token_known_active_is_refused_on_every_route_once_revoked(app_with, db, account):
    """The door knows the token from its earlier requests; the unit of work's own check refuses
    it all the same, discovery included, and from then on it counts as a failed check."""
    stored, token = tokens.create_token(db, account.name, None, None)
    db.flush()
    limited, scim = app_with(token_failure_limit=2), {"Authorization": f"Bearer {token}"}
    assert limited.get("/scim/v2/Users", headers=scim).status_code == 200
    assert limited.get("/scim/v2/Schemas", headers=scim).status_code == 200
    tokens.revoke_token(db, stored.public_id)
    db.flush()
    assert_error(limited.get("/scim/v2/ServiceProviderConfig", headers=scim), 401)
    statuses = [limited.get("/scim/v2/Users", headers=scim).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_failed_checks_are_throttled_like_failed_token_requests(app_with, db, account):
    _, good = tokens.create_token(db, account.name, None, None)
    db.flush()
    limited = app_with(token_failure_limit=3)
    bad = {"Authorization": "Bearer scim_nope"}
    statuses = [limited.get("/scim/v2/Users", headers=bad).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    refused = assert_error(limited.get("/scim/v2/Users", headers=bad), 429)
    assert "failed SCIM token" in refused["detail"]
    # As for a client's secret, the throttled address is refused even a good token until the window ends.
    assert limited.get("/scim/v2/Users", headers={"Authorization": f"Bearer {good}"}).status_code == 429
    fresh = app_with()
    assert fresh.get("/scim/v2/Users", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_tokens_are_stored_hashed(db, account):
    row, token = tokens.create_token(db, account.name, None, None)
    assert token.startswith("scim_") and len(token) > 40
    assert row.token_hash == tokens.hash_token(token) and token not in row.token_hash


def test_sub_account_token_sees_and_provisions_only_its_sub_account(client, db, account, headers, scim_token):
    eu, whole = scim_token(account, sub_account="EU"), scim_token(account)
    outside = client.post("/scim/v2/Users", json=user("outside@example.com"), headers=whole).json()
    inside = client.post("/scim/v2/Users", json=user("inside@example.com"), headers=eu)
    assert inside.status_code == 201, inside.text
    info = client.get(f"/api/v2/users/{inside.json()['id']}", headers=headers).json()
    assert info["userSubAccountNames"] == ["EU"]
    listed = client.get("/scim/v2/Users", headers=eu).json()
    assert [u["userName"] for u in listed["Resources"]] == ["inside@example.com"]
    assert listed["totalResults"] == 1
    assert_error(client.get(f"/scim/v2/Users/{outside['id']}", headers=eu), 404)
    assert_error(client.delete(f"/scim/v2/Users/{outside['id']}", headers=eu), 404)
    filtered = client.get(
        "/scim/v2/Users", params={"filter": 'userName eq "outside@example.com"'}, headers=eu
    )
    assert filtered.json()["totalResults"] == 0
    group = client.post("/scim/v2/Groups", json={"displayName": "EU team"}, headers=eu).json()
    assert client.get(f"/api/v1/groups/{group['id']}", headers=headers).json()["subAccountName"] == "EU"
    assert client.get("/scim/v2/Groups", headers=whole).json()["totalResults"] == 1
    other = client.post("/scim/v2/Groups", json={"displayName": "Global"}, headers=whole).json()
    assert_error(client.get(f"/scim/v2/Groups/{other['id']}", headers=eu), 404)


def test_changes_are_visible_through_both_apis(client, scim, headers):
    created = client.post("/scim/v2/Users", json=user("both@example.com", title="Chef"), headers=scim).json()
    info = client.get(f"/api/v2/users/{created['id']}", headers=headers).json()
    assert info["username"] == "both@example.com" and info["firstName"] == "Ana"
    assert info["email"] == "both@example.com" and info["customAttributes"]["title"] == "Chef"
    body = {
        "identifier": created["id"],
        "lastName": "Changed",
        "email": "moved@example.com",
        "isActive": False,
    }
    assert client.put("/api/v2/users", json=body, headers=headers).status_code == 200
    seen = client.get(f"/scim/v2/Users/{created['id']}", headers=scim).json()
    assert seen["name"]["familyName"] == "Changed" and seen["active"] is False
    assert seen["emails"][0]["value"] == "moved@example.com"
    assert seen["title"] == "Chef"


def test_cli_creates_lists_and_revokes_tokens(cli_db):
    runner.invoke(app, ["accounts", "create", "acme", "--sub-account", "EU"])
    created = runner.invoke(app, ["scim", "tokens", "create", "acme", "--sub-account", "EU", "--json"])
    assert created.exit_code == 0, created.output
    issued = json.loads(created.stdout)
    assert set(issued) == {"token", "id"}
    listed = runner.invoke(app, ["scim", "tokens", "list", "acme"])
    assert issued["id"] in listed.stdout and "active" in listed.stdout and "EU" in listed.stdout
    assert issued["token"] not in listed.stdout
    assert runner.invoke(app, ["scim", "tokens", "revoke", issued["id"]]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["scim", "tokens", "list", "acme"]).stdout
    unknown = runner.invoke(app, ["scim", "tokens", "revoke", "nope"])
    assert unknown.exit_code != 0 and "No SCIM token" in unknown.stderr


def test_other_account_resources_are_404(client, db, scim, scim_token):
    other = scim_token(make_account(db))
    created = client.post(
        "/scim/v2/Users", json=user("mine@example.com", externalId="shared-id"), headers=scim
    )
    theirs = client.post(
        "/scim/v2/Users", json=user("mine@example.com", externalId="shared-id"), headers=other
    )
    assert created.status_code == theirs.status_code == 201
    assert created.json()["id"] == theirs.json()["id"] == "shared-id"
    assert client.get("/scim/v2/Users", headers=other).json()["totalResults"] == 1
