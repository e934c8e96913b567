"""Each change emits its events, from the door that makes it, with the object as the API shows it."""

from __future__ import annotations

import pytest

from enabley.errors import InvalidRequest
from enabley.users import service as users_service
from enabley.users.schemas import UserData
from tests.events.helpers import JSON, cursor, events, kinds
from tests.factories import user_body


def put_user(client, headers, identifier, **fields):
    r = client.put("/api/v2/users", json=user_body(identifier, **fields), headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


def put_group(client, headers, identifier, **fields):
    body = {"identifier": identifier, "name": identifier, **fields}
    r = client.put("/api/v1/groups", json=body, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_user_lifecycle_emits_each_change_once(client, headers):
    created = put_user(client, headers, "ana")
    assert put_user(client, headers, "ana") == created  # nothing changed: no event
    updated = put_user(client, headers, "ana", firstName="Anna")
    r = client.put("/api/v2/users/ana", params={"isActive": "false"}, headers=headers)
    assert r.status_code == 200
    deactivated = r.json()
    r = client.put(
        "/api/v2/users/identityManagement",
        json={"currentUserIdentifier": "ana", "newUserIdentifier": "anna"},
        headers=headers,
    )
    renamed = r.json()
    assert client.delete("/api/v2/users/anna", headers=headers).status_code in (200, 204)
    found = events(client, headers)
    assert [e["type"] for e in found] == [
        "user.created",
        "user.updated",
        "user.updated",
        "user.identifier_changed",
        "user.deleted",
    ]
    assert [e["data"] for e in found[:3]] == [created, updated, deactivated]
    assert found[3]["data"] == {"previousIdentifier": "ana", **renamed}
    assert found[4]["data"] == {"identifier": "anna", "type": "user"}
    assert len({e["id"] for e in found}) == 5 and all(e["id"].startswith("evt_") for e in found)
    assert all(e["timestamp"].endswith("Z") for e in found)


def test_sub_account_membership_changes_are_user_updates(client, headers):
    put_user(client, headers, "bo")
    after = cursor(client, headers)
    joined = put_user(client, headers, "bo", subAccountName="EU")
    assert client.delete("/api/v2/users/bo/subAccountName/EU", headers=headers).status_code in (200, 204)
    found = events(client, headers, after)
    assert [e["type"] for e in found] == ["user.updated", "user.updated"]
    assert found[0]["data"] == joined and found[0]["data"]["userSubAccountNames"] == ["EU"]
    assert found[1]["data"]["userSubAccountNames"] == []


def test_group_lifecycle_and_members(client, headers):
    put_user(client, headers, "u1")
    after = cursor(client, headers)
    g1 = put_group(client, headers, "g1")
    put_group(client, headers, "g1")  # unchanged
    g1b = put_group(client, headers, "g1", name="Group one")
    put_group(client, headers, "g2")
    post = lambda path, **p: client.post(path, params=p, headers={**headers, **JSON})  # noqa: E731
    assert post("/api/v1/groups/g1/users/u1").status_code == 200
    assert post("/api/v1/groups/g1/users/u1").status_code == 200  # already a member: no event
    assert post("/api/v1/groups/g2/users/u1", replace="true").status_code == 200
    assert client.delete("/api/v1/groups/g2/users/u1", headers=headers).status_code == 200
    assert client.delete("/api/v1/groups/g1", headers=headers).status_code in (200, 204)
    found = events(client, headers, after)
    member = lambda g: {"groupIdentifier": g, "userIdentifier": "u1"}  # noqa: E731
    assert [(e["type"], e["data"]) for e in found] == [
        ("group.created", g1),
        ("group.updated", g1b),
        ("group.created", found[2]["data"]),
        ("group.member_added", member("g1")),
        ("group.member_removed", member("g1")),
        ("group.member_added", member("g2")),
        ("group.member_removed", member("g2")),
        ("group.deleted", {"identifier": "g1", "type": "group"}),
    ]
    assert found[2]["data"]["identifier"] == "g2"


def test_a_rolled_back_change_emits_nothing(client, headers, app_database, account):
    before = cursor(client, headers)
    with pytest.raises(InvalidRequest), app_database.session(write=True) as session:
        users_service.put_user(session, account, UserData(**user_body("ghost")), None)
        raise InvalidRequest("the request fails after its change")
    assert kinds(client, headers, before) == []
    assert client.get("/api/v2/users/ghost", headers=headers).status_code == 404


def test_a_refused_request_emits_nothing(client, headers):
    put_user(client, headers, "taken", username="same")
    before = cursor(client, headers)
    r = client.put("/api/v2/users", json=user_body("other", username="same"), headers=headers)
    assert r.status_code == 409
    assert kinds(client, headers, before) == []
