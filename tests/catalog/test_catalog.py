"""Publishing channels in catalogs and looking their catalog items up."""

from __future__ import annotations

import uuid

from tests import factories
from tests.channels.helpers import assert_error, put_channel, put_master

ITEM = "/api/v1/catalog/catalogItem"


def test_publish_look_up_and_withdraw(client, headers):
    put_channel(client, headers, "c1")
    assert_error(
        client.get(ITEM, params={"externalChannelId": "c1"}, headers=headers), 404, "not_found", "c1"
    )

    r = client.put("/api/admin/v1/catalog/c1", headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    item = r.json()
    assert set(item) == {"catalogItemId", "link"}
    uuid.UUID(item["catalogItemId"])
    assert item["link"] == f"https://lms.example.test/catalog/{item['catalogItemId']}"
    # Publishing again is harmless and keeps the id.
    r = client.put("/api/admin/v1/catalog/c1", headers=headers)
    assert (r.status_code, r.json()) == (200, item)

    r = client.get(ITEM, params={"externalChannelId": "c1"}, headers=headers)
    assert (r.status_code, r.json()) == (200, item)
    # The account-wide catalog is not a sub-account's.
    assert_error(
        client.get(ITEM, params={"externalChannelId": "c1", "subAccountName": "EU"}, headers=headers),
        404,
        "not_found",
    )

    r = client.request("DELETE", "/api/admin/v1/catalog/c1", json={"ignored": 1}, headers=headers)
    assert (r.status_code, r.content) == (200, b"")
    assert_error(client.get(ITEM, params={"externalChannelId": "c1"}, headers=headers), 404, "not_found")
    assert_error(client.delete("/api/admin/v1/catalog/c1", headers=headers), 404, "not_found", "c1")
    # Published again: a new entry with a new id.
    r = client.put("/api/admin/v1/catalog/c1", headers=headers)
    assert r.status_code == 201 and r.json()["catalogItemId"] != item["catalogItemId"]


def test_sub_account_catalogs_are_separate(client, headers):
    put_channel(client, headers, "c1")
    eu = client.put("/api/admin/v1/catalog/c1", params={"subAccountName": "EU"}, headers=headers)
    assert eu.status_code == 201, eu.text
    us = client.put("/api/admin/v1/catalog/c1", params={"subAccountName": "US"}, headers=headers)
    assert us.status_code == 201, us.text
    assert eu.json()["catalogItemId"] != us.json()["catalogItemId"]
    r = client.get(ITEM, params={"externalChannelId": "c1", "subAccountName": "EU"}, headers=headers)
    assert r.json() == eu.json()
    assert_error(client.get(ITEM, params={"externalChannelId": "c1"}, headers=headers), 404, "not_found")

    assert (
        client.delete(
            "/api/admin/v1/catalog/c1", params={"subAccountName": "EU"}, headers=headers
        ).status_code
        == 200
    )
    r = client.get(ITEM, params={"externalChannelId": "c1", "subAccountName": "US"}, headers=headers)
    assert r.json() == us.json()
    assert_error(
        client.get(ITEM, params={"externalChannelId": "c1", "subAccountName": "EU"}, headers=headers),
        404,
        "not_found",
    )


def test_list_entries(client, headers):
    put_channel(client, headers, "c1")
    put_channel(client, headers, "c2")
    assert client.get("/api/admin/v1/catalog", headers=headers).json() == []
    a = client.put("/api/admin/v1/catalog/c2", headers=headers).json()
    b = client.put("/api/admin/v1/catalog/c1", params={"subAccountName": "US"}, headers=headers).json()
    r = client.get("/api/admin/v1/catalog", headers=headers)
    assert r.status_code == 200, r.text
    entries = r.json()
    assert [
        (e["channelIdentifier"], e["subAccountName"], e["catalogItemId"], e["link"]) for e in entries
    ] == [
        ("c2", None, a["catalogItemId"], a["link"]),
        ("c1", "US", b["catalogItemId"], b["link"]),
    ]
    assert all(e["created"].endswith("Z") for e in entries)


def test_catalog_errors(client, headers):
    put_channel(client, headers, "c1")
    put_master(client, headers, "m1")
    assert_error(client.get(ITEM, headers=headers), 400, "invalid_request", "externalChannelId")
    assert_error(client.get(ITEM, params={"externalChannelId": ""}, headers=headers), 400, "invalid_request")
    assert_error(
        client.get(ITEM, params={"externalChannelId": "c1", "subAccountName": "ZZ"}, headers=headers),
        400,
        "invalid_request",
        "ZZ",
    )
    assert_error(client.get(ITEM, params={"externalChannelId": "nope"}, headers=headers), 404, "not_found")
    assert_error(client.put("/api/admin/v1/catalog/nope", headers=headers), 404, "not_found", "nope")
    assert_error(client.put("/api/admin/v1/catalog/m1", headers=headers), 404, "not_found")
    r = client.put("/api/admin/v1/catalog/c1", params={"subAccountName": "ZZ"}, headers=headers)
    assert_error(r, 400, "invalid_request", "ZZ")
    assert_error(client.delete("/api/admin/v1/catalog/nope", headers=headers), 404, "not_found")


def test_other_account_sees_no_catalog(client, headers, auth, db):
    put_channel(client, headers, "c1")
    client.put("/api/admin/v1/catalog/c1", headers=headers)
    other = auth(factories.make_account(db))
    assert_error(client.get(ITEM, params={"externalChannelId": "c1"}, headers=other), 404, "not_found")
    assert client.get("/api/admin/v1/catalog", headers=other).json() == []
    assert_error(client.put("/api/admin/v1/catalog/c1", headers=other), 404, "not_found")
    assert_error(client.delete("/api/admin/v1/catalog/c1", headers=other), 404, "not_found")
    assert client.get(ITEM, params={"externalChannelId": "c1"}, headers=headers).status_code == 200
