"""Admin content items, training events and details; the course training events endpoint."""

from __future__ import annotations

from tests import factories
from tests.channels.helpers import assert_error, put_channel, put_content, put_event, put_master, set_details

CONTENT = "/api/admin/v1/channels/{}/contentItems"
EVENTS = "/api/admin/v1/channels/{}/trainingEvents"


def test_content_item_upsert_read_back_and_delete(client, headers):
    put_channel(client, headers, "c1")
    body = {
        "identifier": "v1",
        "name": "Intro",
        "type": "VIDEO",
        "optional": True,
        "durationSeconds": 90,
        "scored": True,
    }
    r = client.put(CONTENT.format("c1"), json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json() == body
    r = client.put(CONTENT.format("c1"), json={"identifier": "v1", "name": "Intro 2"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {**body, "name": "Intro 2"}
    r = client.put(
        CONTENT.format("c1"),
        json={"identifier": "v1", "name": "Intro 2", "durationSeconds": None},
        headers=headers,
    )
    assert r.json()["durationSeconds"] is None

    defaults = put_content(client, headers, "c1", "d1")
    assert defaults == {
        "identifier": "d1",
        "name": "Item d1",
        "type": "OTHER",
        "optional": False,
        "durationSeconds": None,
        "scored": False,
    }
    listed = client.get(CONTENT.format("c1"), headers=headers).json()
    assert [i["identifier"] for i in listed] == ["v1", "d1"]
    assert client.get(CONTENT.format("c1") + "/d1", headers=headers).json() == defaults

    r = client.request("DELETE", CONTENT.format("c1") + "/d1", json={}, headers=headers)
    assert (r.status_code, r.content) == (200, b"")
    assert_error(client.get(CONTENT.format("c1") + "/d1", headers=headers), 404, "not_found", "d1")
    assert_error(client.delete(CONTENT.format("c1") + "/d1", headers=headers), 404, "not_found", "d1")


def test_content_item_validation(client, headers):
    put_channel(client, headers, "c1")
    for body, field in (
        ({"identifier": "x", "name": "x", "durationSeconds": -1}, "durationSeconds"),
        ({"identifier": "x", "name": "x", "type": "PODCAST"}, "type"),
        ({"identifier": "x", "name": ""}, "name"),
        ({"identifier": "x" * 256, "name": "x"}, "identifier"),
    ):
        assert_error(
            client.put(CONTENT.format("c1"), json=body, headers=headers), 400, "invalid_request", field
        )
    assert_error(
        client.put(CONTENT.format("nope"), json={"identifier": "x", "name": "x"}, headers=headers),
        404,
        "not_found",
    )
    assert_error(client.get(CONTENT.format("nope"), headers=headers), 404, "not_found")
    put_event(client, headers, "c1", "ev")
    # A training event is not a content item.
    assert_error(client.get(CONTENT.format("c1") + "/ev", headers=headers), 404, "not_found")
    assert_error(client.delete(CONTENT.format("c1") + "/ev", headers=headers), 404, "not_found")


def test_training_event_upsert_read_back_and_delete(client, headers):
    put_channel(client, headers, "c1")
    body = {
        "identifier": "e1",
        "name": "Kick-off",
        "description": "Meet the team",
        "fromDate": "2027-01-11T09:00:00.000Z",
        "untilDate": "2027-01-11T11:00:00.000Z",
        "allDayEvent": False,
        "includeGrade": True,
        "isPublished": True,
        "liveSession": True,
        "location": "Room 4",
        "optional": True,
    }
    r = client.put(EVENTS.format("c1"), json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json() == body
    r = client.put(
        EVENTS.format("c1"),
        json={
            "identifier": "e1",
            "name": "Kick-off",
            "fromDate": "2027-01-11T10:00:00+01:00",
            "location": None,
        },
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json() == {**body, "fromDate": "2027-01-11T09:00:00.000Z", "location": None}
    assert client.get(EVENTS.format("c1") + "/e1", headers=headers).json() == r.json()
    assert [e["identifier"] for e in client.get(EVENTS.format("c1"), headers=headers).json()] == ["e1"]

    r = client.get("/api/v1/channels/c1/courses/events", headers=headers)
    assert r.status_code == 200, r.text
    event = {k: v for k, v in r.json()[0].items()}
    assert event == {k: v for k, v in r.json()[0].items() if k not in ("identifier", "optional")}
    assert set(event) == {
        "allDayEvent",
        "description",
        "fromDate",
        "includeGrade",
        "isPublished",
        "liveSession",
        "location",
        "name",
        "untilDate",
    }
    assert (event["name"], event["includeGrade"], event["untilDate"]) == (
        "Kick-off",
        True,
        "2027-01-11T11:00:00.000Z",
    )

    assert client.delete(EVENTS.format("c1") + "/e1", headers=headers).status_code == 200
    assert client.get("/api/v1/channels/c1/courses/events", headers=headers).json() == []
    assert_error(client.delete(EVENTS.format("c1") + "/e1", headers=headers), 404, "not_found")
    assert_error(client.get(EVENTS.format("c1") + "/e1", headers=headers), 404, "not_found")


def test_training_event_defaults(client, headers):
    put_channel(client, headers, "c1")
    assert put_event(client, headers, "c1", "e1") == {
        "identifier": "e1",
        "name": "Event e1",
        "description": None,
        "fromDate": None,
        "untilDate": None,
        "allDayEvent": False,
        "includeGrade": False,
        "isPublished": False,
        "liveSession": False,
        "location": None,
        "optional": False,
    }


def test_training_event_dates_must_be_ordered(client, headers):
    put_channel(client, headers, "c1")
    body = {
        "identifier": "e1",
        "name": "x",
        "fromDate": "2027-01-11T09:00:00.000Z",
        "untilDate": "2027-01-11T08:59:59.999Z",
    }
    assert_error(
        client.put(EVENTS.format("c1"), json=body, headers=headers), 400, "invalid_request", "untilDate"
    )
    put_event(client, headers, "c1", "e1", fromDate="2027-01-11T09:00:00.000Z")
    # Checked against the stored start too.
    body = {"identifier": "e1", "name": "x", "untilDate": "2027-01-10T00:00:00.000Z"}
    assert_error(
        client.put(EVENTS.format("c1"), json=body, headers=headers), 400, "invalid_request", "untilDate"
    )
    body = {"identifier": "e1", "name": "x", "fromDate": "2027-01-11T09:00:00"}
    assert_error(
        client.put(EVENTS.format("c1"), json=body, headers=headers), 400, "invalid_request", "fromDate"
    )


def test_items_and_events_share_identifiers(client, headers):
    put_channel(client, headers, "c1")
    put_channel(client, headers, "c2")
    put_content(client, headers, "c1", "same")
    r = client.put(EVENTS.format("c1"), json={"identifier": "same", "name": "x"}, headers=headers)
    assert_error(r, 409, "item_exists", "same")
    put_event(client, headers, "c1", "ev")
    r = client.put(CONTENT.format("c1"), json={"identifier": "ev", "name": "x"}, headers=headers)
    assert_error(r, 409, "item_exists", "ev")
    # Another channel has its own identifier space.
    put_event(client, headers, "c2", "same")


def test_course_events_endpoint_errors(client, headers):
    put_master(client, headers, "m1")
    assert_error(
        client.get("/api/v1/channels/nope/courses/events", headers=headers), 404, "not_found", "nope"
    )
    assert_error(client.get("/api/v1/channels/m1/courses/events", headers=headers), 404, "not_found")


def test_masters_take_items_events_and_details(client, headers):
    put_master(client, headers, "m1")
    assert put_content(client, headers, "m1", "a")["identifier"] == "a"
    assert put_event(client, headers, "m1", "b")["identifier"] == "b"
    details = set_details(client, headers, "m1", categories=["Sales"])
    assert details == {"identifier": "m1", "categories": ["Sales"], "schedule": None}
    assert client.get("/api/admin/v1/masterChannels/m1", headers=headers).json()["categories"] == ["Sales"]


def test_details_set_and_read_back(client, headers):
    put_channel(client, headers, "c1")
    path = "/api/admin/v1/channels/c1/details"
    assert client.get(path, headers=headers).json() == {
        "identifier": "c1",
        "categories": [],
        "schedule": None,
    }
    schedule = {"startDate": "2027-01-10T00:00:00.000Z", "endDate": "2027-03-31T23:59:59.000Z"}
    details = set_details(client, headers, "c1", categories=["A", "B", "A"], schedule=schedule)
    assert details == {"identifier": "c1", "categories": ["A", "B"], "schedule": schedule}
    assert client.get(path, headers=headers).json() == details
    # Left out: kept.
    assert set_details(client, headers, "c1", categories=["C"])["schedule"] == schedule
    assert set_details(client, headers, "c1", schedule={"startDate": schedule["startDate"]}) == {
        "identifier": "c1",
        "categories": ["C"],
        "schedule": {"startDate": schedule["startDate"], "endDate": None},
    }
    assert set_details(client, headers, "c1", schedule=None, categories=[]) == {
        "identifier": "c1",
        "categories": [],
        "schedule": None,
    }


def test_details_validation(client, headers):
    put_channel(client, headers, "c1")
    path = "/api/admin/v1/channels/c1/details"
    bad_schedule = {
        "schedule": {"startDate": "2027-02-01T00:00:00.000Z", "endDate": "2027-01-01T00:00:00.000Z"}
    }
    assert_error(client.put(path, json=bad_schedule, headers=headers), 400, "invalid_request", "endDate")
    too_many = {"categories": [str(i) for i in range(101)]}
    assert_error(client.put(path, json=too_many, headers=headers), 400, "invalid_request", "categories")
    assert_error(client.put(path, json={"categories": ["x" * 256]}, headers=headers), 400, "invalid_request")
    assert_error(
        client.put("/api/admin/v1/channels/nope/details", json={}, headers=headers), 404, "not_found"
    )
    assert_error(client.get("/api/admin/v1/channels/nope/details", headers=headers), 404, "not_found")


def test_other_account_cannot_reach_items(client, headers, auth, db):
    put_channel(client, headers, "c1")
    put_content(client, headers, "c1", "a")
    put_event(client, headers, "c1", "e")
    other = auth(factories.make_account(db))
    for method, path, body in (
        ("GET", CONTENT.format("c1"), None),
        ("GET", CONTENT.format("c1") + "/a", None),
        ("DELETE", CONTENT.format("c1") + "/a", None),
        ("PUT", CONTENT.format("c1"), {"identifier": "z", "name": "z"}),
        ("GET", EVENTS.format("c1") + "/e", None),
        ("PUT", EVENTS.format("c1"), {"identifier": "z", "name": "z"}),
        ("GET", "/api/v1/channels/c1/courses/events", None),
        ("PUT", "/api/admin/v1/channels/c1/details", {"categories": []}),
    ):
        assert_error(client.request(method, path, json=body, headers=other), 404, "not_found")
    assert len(client.get(CONTENT.format("c1"), headers=headers).json()) == 1
