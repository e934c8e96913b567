"""The admin API of webhook endpoints: create, read, change, rotate, delete; one account only."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from enabley.models import IdempotencyKey
from tests import factories
from tests.webhooks.conftest import HOOKS, put_hook

URL = "https://hooks.example.com/enabley"


def test_the_secret_is_shown_once_on_creation(client, headers, receiver):
    created = client.put(HOOKS, json={"identifier": "crm", "url": receiver.url}, headers=headers)
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["eventTypes"] == ["*"] and body["enabled"] is True and body["disabledReason"] is None
    updated = put_hook(client, headers, receiver.url, eventTypes=["user.*"], description="CRM")
    assert (
        updated["secret"] is None and updated["eventTypes"] == ["user.*"] and updated["description"] == "CRM"
    )
    found = client.get(f"{HOOKS}/crm", headers=headers).json()
    assert found["secret"] is None and found["url"] == receiver.url


def test_list_is_paged(client, headers, receiver, page_size):
    page_size(2)
    for n in range(3):
        put_hook(client, headers, receiver.url, identifier=f"hook-{n}")
    first = client.get(HOOKS, headers=headers).json()
    assert [h["identifier"] for h in first["items"]] == ["hook-0", "hook-1"]
    assert first["totalPages"] == 2
    second = client.get(HOOKS, params={"paginationKey": first["paginationKey"]}, headers=headers).json()
    assert [h["identifier"] for h in second["items"]] == ["hook-2"] and second["paginationKey"] is None


def test_delete_removes_the_endpoint(client, headers, receiver):
    put_hook(client, headers, receiver.url)
    assert client.delete(f"{HOOKS}/crm", headers=headers).status_code == 200
    assert client.get(f"{HOOKS}/crm", headers=headers).status_code == 404
    assert client.delete(f"{HOOKS}/crm", headers=headers).status_code == 404


def test_rotation_gives_a_new_secret_and_keeps_the_old_one_a_day(client, headers, receiver):
    old = put_hook(client, headers, receiver.url)["secret"]
    rotated = client.post(f"{HOOKS}/crm/rotateSecret", headers=headers)
    assert rotated.status_code == 200
    body = rotated.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != old
    expires = datetime.fromisoformat(body["previousSecretExpires"])
    assert timedelta(hours=23) < expires - datetime.fromisoformat(body["modified"]) <= timedelta(hours=24)


def test_invalid_bodies_are_400_naming_the_problem(client, headers):
    cases = [
        ({"identifier": "x", "url": "ftp://example.com/"}, "http or https"),
        ({"identifier": "x", "url": "https://user:pw@example.com/"}, "user name"),
        ({"identifier": "x", "url": URL, "eventTypes": ["User Created"]}, "eventTypes"),
        ({"identifier": "x", "url": URL, "eventTypes": []}, "eventTypes"),
        ({"identifier": "", "url": URL}, "identifier"),
    ]
    for body, named in cases:
        response = client.put(HOOKS, json=body, headers=headers)
        assert response.status_code == 400, body
        assert named in response.json()["error_description"], response.text


def test_another_account_sees_nothing(client, headers, auth, db, receiver):
    put_hook(client, headers, receiver.url)
    delivery = client.post(f"{HOOKS}/crm/test", headers=headers).json()
    other = auth(factories.make_account(db))
    for method, path in [
        ("GET", f"{HOOKS}/crm"),
        ("DELETE", f"{HOOKS}/crm"),
        ("POST", f"{HOOKS}/crm/rotateSecret"),
        ("POST", f"{HOOKS}/crm/test"),
        ("GET", f"{HOOKS}/crm/deliveries"),
        ("POST", f"{HOOKS}/deliveries/{delivery['id']}/retry"),
    ]:
        assert client.request(method, path, headers=other).status_code == 404, (method, path)
    replay = client.post(f"{HOOKS}/crm/replay", params={"since": "2026-01-01T00:00:00Z"}, headers=other)
    assert replay.status_code == 404
    assert client.get(HOOKS, headers=other).json()["items"] == []
    assert client.get(f"{HOOKS}/crm", headers=headers).status_code == 200


def test_a_secret_shown_once_is_not_kept_for_idempotent_replays(client, headers, db, receiver):
    keyed = {**headers, "Idempotency-Key": "create-crm"}
    body = {"identifier": "crm", "url": receiver.url}
    created = client.put(HOOKS, json=body, headers=keyed)
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    rotated = client.post(f"{HOOKS}/crm/rotateSecret", headers={**headers, "Idempotency-Key": "rotate"})
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    kept = db.execute(select(IdempotencyKey.status, IdempotencyKey.body)).all()
    assert sorted(kept) == [(200, None), (201, None)], "the secrets are nowhere in clear"
    for retry in (
        client.put(HOOKS, json=body, headers=keyed),
        client.post(f"{HOOKS}/crm/rotateSecret", headers={**headers, "Idempotency-Key": "rotate"}),
    ):
        assert retry.status_code == 422, "executed once, and not replayed"
        assert "showed a secret" in retry.json()["error_description"]
    assert client.get(f"{HOOKS}/crm", headers=headers).json()["previousSecretExpires"] is not None
    # An answer without a secret is replayed as any other.
    update = {**body, "description": "CRM"}
    first = client.put(HOOKS, json=update, headers={**headers, "Idempotency-Key": "update"})
    again = client.put(HOOKS, json=update, headers={**headers, "Idempotency-Key": "update"})
    assert first.status_code == again.status_code == 200 and "cache-control" not in first.headers
    assert again.headers["idempotency-replayed"] == "true" and again.json() == first.json()
