"""UserProfiles 3.8.1 to 3.8.5: create/update, lookups by ids, a user's profiles, assignment."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from enabley.models import Profile
from tests import factories
from tests.factories import counted_statements, user_body

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
JSON = {"Content-Type": "application/json"}


def put(client, headers, **body):
    return client.put("/api/v2/userProfiles", json=body, headers=headers)


def make(client, headers, identifier, name=None):
    r = put(client, headers, identifier=identifier, name=name or f"Profile {identifier}")
    assert r.status_code in (200, 201), r.text
    return r.json()


def make_user(client, headers, identifier):
    r = client.put("/api/v2/users", json=user_body(identifier), headers=headers)
    assert r.status_code == 201, r.text


def lookup(client, headers, identifiers):
    return client.post("/api/v2/getUserProfiles", json=identifiers, headers=headers)


def assign(client, headers, profile, user, **params):
    return client.put(
        f"/api/v2/userProfiles/{profile}/users/{user}", params=params, headers={**headers, **JSON}
    )


def profiles_of(client, headers, user):
    r = client.post(f"/api/v2/userProfiles/users/{user}", headers={**headers, **JSON})
    assert r.status_code == 200, r.text
    return [p["identifier"] for p in r.json()]


def test_create_answers_201_and_update_200(client, headers):
    r = put(client, headers, identifier="p-1", name="Técnico de campo")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"created", "identifier", "modified", "name"}
    assert (body["identifier"], body["name"]) == ("p-1", "Técnico de campo")
    assert TIMESTAMP.match(body["created"]) and TIMESTAMP.match(body["modified"])
    r = put(client, headers, identifier="p-1", name="Field technician")
    assert r.status_code == 200 and r.json()["name"] == "Field technician"
    assert r.json()["created"] == body["created"]


def test_modified_changes_only_when_the_name_changes(client, headers, db):
    make(client, headers, "p", "Same")
    db.execute(
        update(Profile).where(Profile.external_id == "p").values(modified_at=datetime(2020, 1, 1, tzinfo=UTC))
    )
    assert put(client, headers, identifier="p", name="Same").json()["modified"] == "2020-01-01T00:00:00.000Z"
    assert put(client, headers, identifier="p", name="Other").json()["modified"] != "2020-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"name": "N"}, "identifier"),
        ({"identifier": "p"}, "name"),
        ({"identifier": "p", "name": " "}, "name"),
        ({"identifier": "", "name": "N"}, "identifier"),
        ({"identifier": "x" * 256, "name": "N"}, "identifier"),
        ({"identifier": "p", "name": "n" * 256}, "name"),
    ],
)
def test_invalid_input_is_400_naming_the_field(client, headers, body, named):
    r = client.put("/api/v2/userProfiles", json=body, headers=headers)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert named in r.json()["error_description"]


def test_get_profile_details_by_ids_answers_those_that_exist(client, headers):
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for identifier, name in zip(ids, ["Vendedor", "Gérant —", "営業"], strict=True):
        make(client, headers, identifier, name)
    r = lookup(client, headers, [ids[2], "missing", ids[0], ids[2]])
    assert r.status_code == 200, r.text
    assert [(p["identifier"], p["name"]) for p in r.json()] == [(ids[0], "Vendedor"), (ids[2], "営業")]
    assert lookup(client, headers, []).json() == []


def test_get_profile_details_is_bounded(client, headers):
    make(client, headers, "p")
    assert lookup(client, headers, ["p"] + [f"x{n}" for n in range(999)]).status_code == 200
    r = lookup(client, headers, [f"x{n}" for n in range(1001)])
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


@pytest.mark.parametrize("body", [None, {"identifiers": ["p"]}, "p", [1, 2], [""]])
def test_get_profile_details_needs_an_array_of_identifiers(client, headers, body):
    r = client.post("/api/v2/getUserProfiles", json=body, headers=headers)
    assert r.status_code == 400, r.text


def test_get_profile_details_runs_a_fixed_number_of_statements(client, headers, engine):
    for n in range(8):
        make(client, headers, f"p{n}")
    with counted_statements(engine) as few:
        assert len(lookup(client, headers, ["p0"]).json()) == 1
    with counted_statements(engine) as many:
        assert len(lookup(client, headers, [f"p{n}" for n in range(8)]).json()) == 8
    assert len(many) == len(few)


def test_assign_and_find_profiles_of_a_user(client, headers):
    for p in ("a", "b", "c"):
        make(client, headers, p)
    make_user(client, headers, "u")
    assert profiles_of(client, headers, "u") == []
    r = assign(client, headers, "b", "u")
    assert r.status_code == 200 and r.content == b""
    assert assign(client, headers, "a", "u").status_code == 200
    assert assign(client, headers, "a", "u").status_code == 200, "assigning twice is harmless"
    assert profiles_of(client, headers, "u") == ["a", "b"]
    r = client.post("/api/v2/userProfiles/users/u", headers=headers)
    assert r.status_code == 200 and r.json()[0]["name"] == "Profile a"


def test_replace_removes_the_users_other_profiles(client, headers):
    for p in ("a", "b", "c"):
        make(client, headers, p)
    make_user(client, headers, "u")
    make_user(client, headers, "v")
    assign(client, headers, "a", "u")
    assign(client, headers, "b", "u")
    assign(client, headers, "a", "v")
    assert assign(client, headers, "c", "u", replace="false").status_code == 200
    assert profiles_of(client, headers, "u") == ["a", "b", "c"]
    assert assign(client, headers, "b", "u", replace="true").status_code == 200
    assert profiles_of(client, headers, "u") == ["b"]
    assert profiles_of(client, headers, "v") == ["a"]


def test_assign_unknown_user_or_profile_is_404(client, headers):
    make(client, headers, "p")
    make_user(client, headers, "u")
    r = assign(client, headers, "nope", "u")
    assert r.status_code == 404 and "'nope'" in r.json()["error_description"]
    r = assign(client, headers, "p", "nobody")
    assert r.status_code == 404 and "'nobody'" in r.json()["error_description"]
    r = client.post("/api/v2/userProfiles/users/nobody", headers=headers)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_remove_profile_of_a_user(client, headers):
    make(client, headers, "a")
    make(client, headers, "b")
    make_user(client, headers, "u")
    assign(client, headers, "a", "u")
    assign(client, headers, "b", "u")
    r = client.delete("/api/v2/userProfiles/a/users/u", headers=headers)
    assert r.status_code == 200 and r.content == b""
    assert profiles_of(client, headers, "u") == ["b"]
    assert client.delete("/api/v2/userProfiles/a/users/u", headers=headers).status_code == 200
    r = client.request("DELETE", "/api/v2/userProfiles/b/users/u", json={"ignored": True}, headers=headers)
    assert r.status_code == 200
    assert profiles_of(client, headers, "u") == []
    assert client.delete("/api/v2/userProfiles/nope/users/u", headers=headers).status_code == 404
    assert client.delete("/api/v2/userProfiles/a/users/nobody", headers=headers).status_code == 404


def test_deleting_a_user_forgets_their_profiles(client, headers):
    make(client, headers, "p")
    make_user(client, headers, "u")
    assign(client, headers, "p", "u")
    assert client.delete("/api/v2/users/u", headers=headers).status_code == 200
    make_user(client, headers, "u")
    assert profiles_of(client, headers, "u") == []


def test_another_accounts_profiles_and_users_are_not_found(client, headers, auth, db):
    other = auth(factories.make_account(db))
    make(client, headers, "p", "Mine")
    make_user(client, headers, "u")
    assign(client, headers, "p", "u")
    make_user(client, other, "them")
    assert lookup(client, other, ["p"]).json() == []
    assert assign(client, other, "p", "them").status_code == 404
    assert client.post("/api/v2/userProfiles/users/u", headers=other).status_code == 404
    assert client.delete("/api/v2/userProfiles/p/users/u", headers=other).status_code == 404
    r = put(client, other, identifier="p", name="Theirs")
    assert r.status_code == 201, "identifiers are per account"
    assert lookup(client, headers, ["p"]).json()[0]["name"] == "Mine"
    assert profiles_of(client, headers, "u") == ["p"]


def test_requires_a_token(client):
    assert client.post("/api/v2/getUserProfiles", json=["p"]).status_code == 401
    assert client.put("/api/v2/userProfiles", json={"identifier": "p", "name": "P"}).status_code == 401
