"""Master channels (admin upsert, lists, paging) and instances made from them."""

from __future__ import annotations

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
)

MASTER_FIELDS = {"categories", "created", "identifier", "name", "published", "subAccountName"}


def test_create_update_and_read_back_a_master(client, headers):
    r = client.put(
        "/api/admin/v1/masterChannels",
        json={"identifier": "m1", "name": "Onboarding", "published": True, "categories": ["A", "B", "A"]},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert set(created) == MASTER_FIELDS
    assert (created["name"], created["published"], created["categories"]) == ("Onboarding", True, ["A", "B"])
    assert created["subAccountName"] is None

    r = client.put(
        "/api/admin/v1/masterChannels",
        json={"identifier": "m1", "name": "Renamed", "subAccountName": "US"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert (updated["name"], updated["published"], updated["categories"]) == ("Renamed", True, ["A", "B"])
    assert updated["subAccountName"] == "US"
    assert updated["created"] == created["created"]
    r = client.get("/api/admin/v1/masterChannels/m1", headers=headers)
    assert r.status_code == 200 and r.json() == updated


def test_master_validation_and_lookups(client, headers):
    assert_error(client.get("/api/admin/v1/masterChannels/nope", headers=headers), 404, "not_found", "nope")
    put_channel(client, headers, "plain")
    assert_error(client.get("/api/admin/v1/masterChannels/plain", headers=headers), 404, "not_found")
    for body, field in (
        ({"identifier": "m", "name": "m", "categories": [f"c{i}" for i in range(101)]}, "categories"),
        ({"identifier": "m", "name": "m", "categories": ["x" * 256]}, "categories"),
        ({"identifier": "m", "name": "m", "categories": [""]}, "categories"),
        ({"identifier": "m", "name": ""}, "name"),
        ({"identifier": "m", "name": "m", "subAccountName": "ZZ"}, "ZZ"),
    ):
        r = client.put("/api/admin/v1/masterChannels", json=body, headers=headers)
        assert_error(r, 400, "invalid_request", field)
    ok = {"identifier": "m", "name": "m", "categories": [f"c{i}" for i in range(100)]}
    assert client.put("/api/admin/v1/masterChannels", json=ok, headers=headers).status_code == 201


def test_master_lists_filter_and_exclude_ordinary_channels(client, headers):
    put_master(client, headers, "m1", published=True, subAccountName="EU")
    put_master(client, headers, "m2", published=False, subAccountName="EU")
    put_master(client, headers, "m3", published=True)
    put_channel(client, headers, "plain", subAccountName="EU")

    def listed(**params) -> list[str]:
        r = client.get("/api/v2/channels/channels/masters", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [m["identifier"] for m in r.json()]

    assert listed() == ["m1", "m2", "m3"]
    assert listed(onlyPublished="true") == ["m1", "m3"]
    assert listed(onlyPublished="false") == ["m1", "m2", "m3"]
    assert listed(subAccountName="EU") == ["m1", "m2"]
    assert listed(subAccountName="EU", onlyPublished="true") == ["m1"]
    r = client.get("/api/v2/channels/channels/masters", params={"subAccountName": "ZZ"}, headers=headers)
    assert_error(r, 400, "invalid_request", "ZZ")
    first = client.get("/api/v2/channels/channels/masters", headers=headers).json()[0]
    assert set(first) == MASTER_FIELDS


def test_master_v3_pages(client, headers, page_size):
    page_size(2)
    for i in range(5):
        put_master(client, headers, f"m{i}", published=i != 1)
    put_channel(client, headers, "plain")
    seen, key = [], None
    while True:
        params = {"onlyPublished": "true"} if key is None else {"paginationKey": key}
        r = client.get("/api/v3/channels/masters", params=params, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["totalPages"] == 2
        seen += [m["identifier"] for m in body["items"]]
        key = body["paginationKey"]
        if key is None:
            break
    assert seen == ["m0", "m2", "m3", "m4"]
    # A key belongs to its own endpoint.
    r = client.get("/api/v3/channels/masters", params={"onlyPublished": "true"}, headers=headers)
    key = r.json()["paginationKey"]
    assert_error(
        client.get("/api/v3/channels", params={"paginationKey": key}, headers=headers), 404, "not_found"
    )
    # Filters repeated next to a key must match it.
    r = client.get(
        "/api/v3/channels/masters", params={"paginationKey": key, "onlyPublished": "false"}, headers=headers
    )
    assert_error(r, 404, "not_found")


def test_instance_copies_the_master(client, headers):
    put_master(client, headers, "m1", name="Master", categories=["Sales"], subAccountName="EU")
    put_content(client, headers, "m1", "video", type="VIDEO", durationSeconds=300, scored=True, optional=True)
    put_event(client, headers, "m1", "kickoff", location="Room 4", includeGrade=True)
    start, end = days_from_now(-1), days_from_now(10)
    set_details(client, headers, "m1", schedule={"startDate": start, "endDate": end})

    r = client.put(
        "/api/v2/channels/master/instance",
        json={"identifier": "i1", "masterCourseIdentifier": "m1", "name": "Spring", "subAccountName": "US"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    info = r.json()
    assert info["identifier"] == "i1"
    assert (info["masterChannelInstance"], info["masterChannelId"]) == (True, "m1")
    assert (info["type"], info["name"], info["subAccountName"]) == ("COURSE", "Spring", "US")
    assert info["duration"] == 300
    assert info["availability"] == {"status": "STARTED", "schedule": {"startDate": start, "endDate": end}}
    assert get_channel(client, headers, "i1", includeCategories="true")["categories"] == ["Sales"]

    items = client.get("/api/admin/v1/channels/i1/contentItems", headers=headers).json()
    assert items == client.get("/api/admin/v1/channels/m1/contentItems", headers=headers).json()
    events = client.get("/api/v1/channels/i1/courses/events", headers=headers).json()
    assert [(e["name"], e["location"], e["includeGrade"]) for e in events] == [
        ("Event kickoff", "Room 4", True)
    ]

    # The copy is independent of its master.
    put_content(client, headers, "m1", "later")
    assert len(client.get("/api/admin/v1/channels/i1/contentItems", headers=headers).json()) == 1
    # An instance is an ordinary channel: listed with the channels, not with the masters.
    assert [c["identifier"] for c in client.get("/api/v1/channels", headers=headers).json()] == ["i1"]
    masters = client.get("/api/v2/channels/channels/masters", headers=headers).json()
    assert [m["identifier"] for m in masters] == ["m1"]


def test_instance_name_defaults_to_the_masters(client, headers):
    put_master(client, headers, "m1", name="Master name")
    r = client.put(
        "/api/v2/channels/master/instance",
        json={"identifier": "i1", "masterCourseIdentifier": "m1"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["availability"]["status"]) == ("Master name", "DRAFT")


def test_instance_errors(client, headers):
    put_master(client, headers, "m1")
    put_channel(client, headers, "plain")
    body = {"identifier": "i1", "masterCourseIdentifier": "nope"}
    assert_error(
        client.put("/api/v2/channels/master/instance", json=body, headers=headers), 404, "not_found", "nope"
    )
    body = {"identifier": "i1", "masterCourseIdentifier": "plain"}
    assert_error(client.put("/api/v2/channels/master/instance", json=body, headers=headers), 404, "not_found")
    for taken in ("plain", "m1"):
        body = {"identifier": taken, "masterCourseIdentifier": "m1"}
        r = client.put("/api/v2/channels/master/instance", json=body, headers=headers)
        assert_error(r, 409, "item_exists", taken)
    body = {"identifier": "i1", "masterCourseIdentifier": "m1"}
    assert client.put("/api/v2/channels/master/instance", json=body, headers=headers).status_code == 201
    assert_error(
        client.put("/api/v2/channels/master/instance", json=body, headers=headers), 409, "item_exists"
    )
    body = {"identifier": "i2", "masterCourseIdentifier": "m1", "subAccountName": "ZZ"}
    assert_error(
        client.put("/api/v2/channels/master/instance", json=body, headers=headers), 400, "invalid_request"
    )
    assert_error(
        client.put("/api/v2/channels/master/instance", json={"identifier": "i3"}, headers=headers),
        400,
        "invalid_request",
        "masterCourseIdentifier",
    )


def test_instance_stays_a_course(client, headers):
    put_master(client, headers, "m1")
    client.put(
        "/api/v2/channels/master/instance",
        json={"identifier": "i1", "masterCourseIdentifier": "m1"},
        headers=headers,
    )
    r = client.put(
        "/api/v1/channels", json={"identifier": "i1", "name": "x", "type": "STREAM"}, headers=headers
    )
    assert_error(r, 400, "invalid_request", "i1")
    info = put_channel(client, headers, "i1", name="Renamed")
    assert (info["name"], info["masterChannelId"]) == ("Renamed", "m1")


def test_masters_of_another_account_are_invisible(client, headers, auth, db):
    put_master(client, headers, "m1", published=True)
    other = auth(factories.make_account(db))
    assert client.get("/api/v2/channels/channels/masters", headers=other).json() == []
    assert client.get("/api/v3/channels/masters", headers=other).json()["items"] == []
    assert_error(client.get("/api/admin/v1/masterChannels/m1", headers=other), 404, "not_found")
    body = {"identifier": "i1", "masterCourseIdentifier": "m1"}
    assert_error(client.put("/api/v2/channels/master/instance", json=body, headers=other), 404, "not_found")
