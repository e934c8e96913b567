"""Ordinary channels: create/update, lookups, lists, paging and what ChannelInfo derives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from enabley.models import Channel
from tests import factories
from tests.channels.helpers import (
    assert_error,
    days_from_now,
    get_channel,
    put_channel,
    put_content,
    put_event,
    put_master,
    set_details,
    stamp,
)

INFO_FIELDS = {
    "availability",
    "categories",
    "created",
    "directLink",
    "duration",
    "identifier",
    "masterChannelId",
    "masterChannelInstance",
    "name",
    "subAccountName",
    "type",
}


def test_create_then_update_channel(client, headers):
    r = client.put(
        "/api/v1/channels",
        json={"identifier": "c1", "name": "Onboarding", "type": "STREAM", "subAccountName": "EU"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert set(created) == INFO_FIELDS
    assert created["identifier"] == "c1"
    assert created["name"] == "Onboarding"
    assert created["type"] == "STREAM"
    assert created["subAccountName"] == "EU"
    assert created["masterChannelId"] is None
    assert created["masterChannelInstance"] is False
    assert created["categories"] is None
    assert created["duration"] == 0
    assert created["availability"] == {"status": "DRAFT", "schedule": None}
    assert created["created"].endswith("Z") and len(created["created"]) == 24

    r = client.put("/api/v1/channels", json={"identifier": "c1", "name": "Renamed"}, headers=headers)
    assert r.status_code == 200, r.text
    updated = r.json()
    # Fields left out keep their value.
    assert (updated["name"], updated["type"], updated["subAccountName"]) == ("Renamed", "STREAM", "EU")
    assert updated["created"] == created["created"]
    assert get_channel(client, headers, "c1") == updated


def test_defaults_and_clearing_the_sub_account(client, headers):
    info = put_channel(client, headers, "c1", expect=201)
    assert (info["type"], info["subAccountName"]) == ("COURSE", None)
    info = put_channel(client, headers, "c1", subAccountName="US")
    assert info["subAccountName"] == "US"
    info = put_channel(client, headers, "c1", subAccountName=None)
    assert info["subAccountName"] is None


def test_channel_body_is_validated(client, headers):
    for body, field in (
        ({"name": "x"}, "identifier"),
        ({"identifier": "c1"}, "name"),
        ({"identifier": "c1", "name": ""}, "name"),
        ({"identifier": "c1", "name": "   "}, "name"),
        ({"identifier": "c1", "name": "n" * 256}, "name"),
        ({"identifier": "", "name": "x"}, "identifier"),
        ({"identifier": "c1", "name": "x", "type": "WEBINAR"}, "type"),
        ({"identifier": "c1", "name": "x", "status": "PAUSED"}, "status"),
    ):
        r = client.put("/api/v1/channels", json=body, headers=headers)
        assert_error(r, 400, "invalid_request", field)


def test_unknown_sub_account_is_400(client, headers):
    r = client.put(
        "/api/v1/channels", json={"identifier": "c1", "name": "x", "subAccountName": "ZZ"}, headers=headers
    )
    assert_error(r, 400, "invalid_request", "ZZ")
    for path in ("/api/v1/channels", "/api/v3/channels"):
        assert_error(
            client.get(path, params={"subAccountName": "ZZ"}, headers=headers), 400, "invalid_request"
        )


def test_unknown_fields_are_ignored(client, headers):
    r = client.put(
        "/api/v1/channels", json={"identifier": "c1", "name": "x", "colour": "blue"}, headers=headers
    )
    assert r.status_code == 201, r.text


def test_find_unknown_channel_is_404(client, headers):
    assert_error(client.get("/api/v1/channels/nope", headers=headers), 404, "not_found", "nope")


def test_inactive_channel_is_nonactive(client, headers):
    put_channel(client, headers, "c1")
    put_content(client, headers, "c1", "i1")
    info = put_channel(client, headers, "c1", status="INACTIVE")
    assert info["availability"]["status"] == "NONACTIVE"
    info = put_channel(client, headers, "c1", status="ACTIVE")
    assert info["availability"]["status"] == "ACTIVE"


def test_availability_follows_items_and_schedule(client, headers):
    put_channel(client, headers, "c1")
    assert get_channel(client, headers, "c1")["availability"]["status"] == "DRAFT"
    put_event(client, headers, "c1", "e1")
    assert get_channel(client, headers, "c1")["availability"] == {"status": "ACTIVE", "schedule": None}

    start, end = days_from_now(1), days_from_now(2)
    set_details(client, headers, "c1", schedule={"startDate": start, "endDate": end})
    availability = get_channel(client, headers, "c1")["availability"]
    assert availability == {"status": "SCHEDULED", "schedule": {"startDate": start, "endDate": end}}

    set_details(client, headers, "c1", schedule={"startDate": days_from_now(-1), "endDate": days_from_now(1)})
    assert get_channel(client, headers, "c1")["availability"]["status"] == "STARTED"

    set_details(
        client, headers, "c1", schedule={"startDate": days_from_now(-2), "endDate": days_from_now(-1)}
    )
    assert get_channel(client, headers, "c1")["availability"]["status"] == "FINISHED"

    set_details(client, headers, "c1", schedule=None)
    assert get_channel(client, headers, "c1")["availability"] == {"status": "ACTIVE", "schedule": None}


def test_duration_sums_content_items(client, headers):
    put_channel(client, headers, "c1")
    put_content(client, headers, "c1", "a", durationSeconds=600)
    put_content(client, headers, "c1", "b", durationSeconds=45)
    put_content(client, headers, "c1", "c")  # no duration
    put_event(client, headers, "c1", "e")
    assert get_channel(client, headers, "c1")["duration"] == 645


def test_direct_link_is_stable_and_quoted(client, headers):
    info = put_channel(client, headers, "a b/c?")
    assert info["directLink"] == "https://lms.example.test/channels/a%20b%2Fc%3F"
    assert put_channel(client, headers, "a b/c?", name="other")["directLink"] == info["directLink"]


def test_categories_only_when_asked(client, headers):
    put_channel(client, headers, "c1")
    set_details(client, headers, "c1", categories=["Sales", "Compliance"])
    assert get_channel(client, headers, "c1")["categories"] is None
    assert get_channel(client, headers, "c1", includeCategories="false")["categories"] is None
    assert get_channel(client, headers, "c1", includeCategories="true")["categories"] == [
        "Sales",
        "Compliance",
    ]
    listed = client.get("/api/v1/channels", params={"includeCategories": "true"}, headers=headers).json()
    assert listed[0]["categories"] == ["Sales", "Compliance"]
    assert client.get("/api/v1/channels", headers=headers).json()[0]["categories"] is None


def test_list_filters_by_sub_account_and_excludes_masters(client, headers):
    put_channel(client, headers, "eu", subAccountName="EU")
    put_channel(client, headers, "us", subAccountName="US")
    put_channel(client, headers, "none")
    put_master(client, headers, "m1", subAccountName="EU")
    r = client.get("/api/v1/channels", headers=headers)
    assert r.status_code == 200, r.text
    assert [c["identifier"] for c in r.json()] == ["eu", "us", "none"]
    r = client.get("/api/v1/channels", params={"subAccountName": "EU"}, headers=headers)
    assert [c["identifier"] for c in r.json()] == ["eu"]
    assert_error(client.get("/api/v1/channels/m1", headers=headers), 404, "not_found")


def test_created_since(client, headers, db, account):
    for name in ("old", "new"):
        put_channel(client, headers, name)
    old = datetime(2020, 1, 1, tzinfo=UTC)
    db.execute(
        update(Channel)
        .where(Channel.account_id == account.id, Channel.external_id == "old")
        .values(created_at=old)
    )
    db.flush()

    def listed(since: str) -> list[str]:
        r = client.get("/api/v1/channels", params={"createdSince": since}, headers=headers)
        assert r.status_code == 200, r.text
        return [c["identifier"] for c in r.json()]

    assert listed("2019-12-31T00:00:00.000Z") == ["old", "new"]
    assert listed(stamp(old)) == ["old", "new"]
    assert listed(stamp(old + timedelta(milliseconds=1))) == ["new"]
    assert listed("2020-01-01T02:00:00+02:00") == ["old", "new"]
    assert listed(days_from_now(1)) == []
    assert get_channel(client, headers, "old")["created"] == "2020-01-01T00:00:00.000Z"
    for bad in ("yesterday", "2020-13-01T00:00:00.000Z"):
        r = client.get("/api/v1/channels", params={"createdSince": bad}, headers=headers)
        assert_error(r, 400, "invalid_request", "createdSince")


def test_v3_pages_through_channels(client, headers, page_size):
    page_size(2)
    for i in range(5):
        put_channel(client, headers, f"c{i}", subAccountName="EU" if i % 2 == 0 else None)
    put_master(client, headers, "m1")
    set_details(client, headers, "c0", categories=["x"])

    seen, key, pages = [], None, 0
    while True:
        params = {"includeCategories": "true"} if key is None else {"paginationKey": key}
        r = client.get("/api/v3/channels", params=params, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        assert (body["pageSize"], body["currentPage"], body["totalPages"]) == (2, pages, 3)
        # The key keeps includeCategories from the first page.
        assert all(item["categories"] is not None for item in body["items"])
        seen += [item["identifier"] for item in body["items"]]
        key = body["paginationKey"]
        if key is None:
            break
    assert seen == [f"c{i}" for i in range(5)]

    r = client.get("/api/v3/channels", params={"subAccountName": "EU"}, headers=headers)
    body = r.json()
    assert [i["identifier"] for i in body["items"]] == ["c0", "c2"]
    assert body["items"][0]["categories"] is None
    assert body["totalPages"] == 2
    r = client.get("/api/v3/channels", params={"paginationKey": body["paginationKey"]}, headers=headers)
    assert [i["identifier"] for i in r.json()["items"]] == ["c4"]


def test_v3_invalid_key_is_404(client, headers):
    r = client.get("/api/v3/channels", params={"paginationKey": "garbage"}, headers=headers)
    assert_error(r, 404, "not_found")


def test_ordinary_and_master_channels_share_identifiers(client, headers):
    put_master(client, headers, "shared")
    r = client.put("/api/v1/channels", json={"identifier": "shared", "name": "x"}, headers=headers)
    assert_error(r, 409, "item_exists", "shared")
    put_channel(client, headers, "plain")
    r = client.put("/api/admin/v1/masterChannels", json={"identifier": "plain", "name": "x"}, headers=headers)
    assert_error(r, 409, "item_exists", "plain")


def test_other_account_sees_nothing(client, headers, auth, db):
    put_channel(client, headers, "c1")
    other = auth(factories.make_account(db))
    assert_error(client.get("/api/v1/channels/c1", headers=other), 404, "not_found")
    assert client.get("/api/v1/channels", headers=other).json() == []
    assert client.get("/api/v3/channels", headers=other).json()["items"] == []
    # The same identifier is free in the other account.
    assert put_channel(client, other, "c1", expect=201)["identifier"] == "c1"


def test_missing_token_is_401(client):
    assert client.get("/api/v1/channels").status_code == 401
