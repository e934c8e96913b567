"""Requests the contract fuzz once answered with a 5xx, kept as plain tests."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "fields",
    [{"email": ""}, {"email": "   "}, {"username": ""}, {"username": " "}],
    ids=["empty-email", "blank-email", "empty-username", "blank-username"],
)
def test_blank_optional_user_strings_count_as_absent(client, headers, fields):
    # A blank email or username became None before the length limit ran on it: a TypeError, a 500.
    response = client.put("/api/v2/users", json={"identifier": "u-blank", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()[next(iter(fields))] is None


@pytest.mark.parametrize("field, limit", [("email", 320), ("username", 255)])
def test_over_long_user_strings_are_refused(client, headers, field, limit):
    value = "a" * (limit - 6) + "@x.com" + "a"
    response = client.put("/api/v2/users", json={"identifier": "u-long", field: value}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("taken", ["ana.s", "ANA.S"], ids=["same-case", "other-case"])
def test_taking_another_users_username_on_update_is_a_conflict(client, headers, taken):
    # The uniqueness check queried with the changed user pending: autoflush ran the UPDATE first
    # and the unique index answered instead of the check, as a 500.
    for identifier, username in (("u-first", "ana.s"), ("u-second", "other")):
        body = {"identifier": identifier, "username": username}
        assert client.put("/api/v2/users", json=body, headers=headers).status_code == 201
    response = client.put(
        "/api/v2/users", json={"identifier": "u-second", "username": taken}, headers=headers
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "item_exists"
    assert client.get("/api/v2/users/u-second", headers=headers).json()["username"] == "other"


@pytest.mark.parametrize("path", ["/api/v2/users", "/api/v3/users"])
def test_short_and_long_substrings_together_are_served(client, headers, path):
    # SQLite's FTS5 trigram index crashed the whole process (SIGSEGV) on a pattern shorter than a
    # trigram next to longer ones: any client could stop the server with one query string.
    body = {"identifier": "u-sub", "email": "abc@example.com", "firstName": "Dan", "lastName": "Xyz"}
    assert client.put("/api/v2/users", json=body, headers=headers).status_code == 201
    for params in (
        {"emailSubstring": "abc", "firstNameSubstring": "d", "lastNameSubstring": "xyz"},
        {"firstNameSubstring": "d", "emailSubstring": "abc"},
        {"usernameSubstring": "q", "firstNameSubstring": "da", "lastNameSubstring": "xyz"},
        {"emailSubstring": "b%c", "firstNameSubstring": "_", "lastNameSubstring": "yz"},
    ):
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, (params, response.text)
    found = client.get(path, params={"emailSubstring": "abc", "firstNameSubstring": "d"}, headers=headers)
    items = found.json() if path == "/api/v2/users" else found.json()["items"]
    assert [user["identifier"] for user in items] == ["u-sub"]


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/admin/v1/masterChannels", {"identifier": "m-strict", "name": "M", "published": 0}),
        ("/api/admin/v1/masterChannels", {"identifier": "m-strict", "name": "M", "published": "true"}),
        (
            "/api/admin/v1/certificates",
            {"externalCertificateId": "c", "name": "C", "requiresLearnerConfirmation": 1},
        ),
        (
            "/api/admin/v1/certificates",
            {"externalCertificateId": "c", "name": "C", "expiration": {"duration": "2", "period": "YEAR"}},
        ),
        (
            "/api/v1/certificates/compliance",
            {"certificateIdentifier": "c", "userIdentifier": "u", "isRequired": "false"},
        ),
    ],
    ids=["bool-from-0", "bool-from-string", "bool-from-1", "int-from-string", "bool-from-false-string"],
)
def test_json_scalars_of_another_type_are_refused(client, headers, path, body):
    # Lax parsing read 0, 1 and "true" as booleans and "2" as a number, unlike the document says.
    response = client.put(path, json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("value", ["0.5", "1700000000", "2017-12-13"])
def test_timestamps_must_be_iso_date_times(client, headers, value):
    # A number, or a string of one, was read as seconds since 1970.
    response = client.get("/api/v1/channels", params={"createdSince": value}, headers=headers)
    assert response.status_code == 400, response.text
    assert (
        client.get(
            "/api/v1/channels", params={"createdSince": "2017-12-13T13:14:28.317Z"}, headers=headers
        ).status_code
        == 200
    )
    course = {"identifier": "c-ts", "name": "C"}
    assert client.put("/api/v1/channels", json=course, headers=headers).status_code == 201
    event = {"identifier": "e-ts", "name": "E", "fromDate": 1700000000}
    answer = client.put("/api/admin/v1/channels/c-ts/trainingEvents", json=event, headers=headers)
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_timestamps_outside_the_utc_range_are_refused(client, headers, value):
    # Valid ISO 8601, but out of range once converted to UTC for storage: an OverflowError, a 500.
    course = {"identifier": "c-range", "name": "C"}
    assert client.put("/api/v1/channels", json=course, headers=headers).status_code == 201
    event = {"identifier": "e-range", "name": "E", "untilDate": value}
    response = client.put("/api/admin/v1/channels/c-range/trainingEvents", json=event, headers=headers)
    assert response.status_code == 400, response.text
    assert "range" in response.json()["error_description"]
