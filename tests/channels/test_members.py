"""Assigning groups and users to channels, and counting learners."""

from __future__ import annotations

from tests import factories
from tests.channels.helpers import assert_error, make_user, put_channel, put_master

JSON = {"Content-Type": "application/json"}


def _count(client, headers, channel: str) -> int:
    r = client.get(f"/api/v2/channels/channels/{channel}/members/count", headers=headers)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"learners"}
    return r.json()["learners"]


def test_assign_and_remove_users(client, headers, db, account):
    put_channel(client, headers, "c1")
    for name in ("u1", "u2", "u3"):
        make_user(client, headers, db, account, name)
    assert _count(client, headers, "c1") == 0

    r = client.post("/api/v2/channels/c1/users/u1", headers={**headers, **JSON})
    assert (r.status_code, r.content) == (200, b"")
    assert _count(client, headers, "c1") == 1
    # Assigning again is harmless.
    assert (
        client.post("/api/v2/channels/c1/users/u1", params={"roles": "LEARNER"}, headers=headers).status_code
        == 200
    )
    assert _count(client, headers, "c1") == 1

    # An instructor is not a learner.
    r = client.post("/api/v2/channels/c1/users/u2", params={"roles": "INSTRUCTOR"}, headers=headers)
    assert r.status_code == 200, r.text
    assert _count(client, headers, "c1") == 1
    r = client.post(
        "/api/v2/channels/c1/users/u3",
        params=[("roles", "LEARNER"), ("roles", "INSTRUCTOR")],
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert _count(client, headers, "c1") == 2

    r = client.request("DELETE", "/api/v1/channels/c1/users/u3", json={"ignored": True}, headers=headers)
    assert (r.status_code, r.content) == (200, b"")
    assert _count(client, headers, "c1") == 1
    # Removing takes every role: re-adding only as instructor leaves u3 out of the learners.
    client.post("/api/v2/channels/c1/users/u3", params={"roles": "INSTRUCTOR"}, headers=headers)
    assert _count(client, headers, "c1") == 1
    assert client.delete("/api/v1/channels/c1/users/u1", headers=headers).status_code == 200
    assert _count(client, headers, "c1") == 0


def test_user_assignment_errors(client, headers, db, account):
    put_channel(client, headers, "c1")
    put_master(client, headers, "m1")
    make_user(client, headers, db, account, "u1")
    assert_error(client.post("/api/v2/channels/nope/users/u1", headers=headers), 404, "not_found", "nope")
    assert_error(client.post("/api/v2/channels/c1/users/nobody", headers=headers), 404, "not_found", "nobody")
    assert_error(client.post("/api/v2/channels/m1/users/u1", headers=headers), 404, "not_found", "m1")
    r = client.post("/api/v2/channels/c1/users/u1", params={"roles": "MANAGER"}, headers=headers)
    assert_error(r, 400, "invalid_request", "roles")
    assert_error(client.delete("/api/v1/channels/nope/users/u1", headers=headers), 404, "not_found")
    assert_error(client.delete("/api/v1/channels/c1/users/nobody", headers=headers), 404, "not_found")
    assert_error(
        client.get("/api/v2/channels/channels/nope/members/count", headers=headers), 404, "not_found"
    )
    assert_error(client.get("/api/v2/channels/channels/m1/members/count", headers=headers), 404, "not_found")


def test_groups_are_live_and_recursive_reaches_descendants(client, headers, db, account):
    put_channel(client, headers, "c1")
    top = factories.make_group(db, account, "top")
    child = factories.make_group(db, account, "child", parent=top)
    users = {name: make_user(client, headers, db, account, name) for name in ("a", "b", "c", "d")}
    factories.add_to_group(db, users["a"], top)
    factories.add_to_group(db, users["b"], child)
    factories.add_to_group(db, users["c"], child)

    r = client.post(
        "/api/v1/channels/c1/groups/top", params={"userRole": "LEARNER"}, headers={**headers, **JSON}
    )
    assert (r.status_code, r.content) == (200, b"")
    assert _count(client, headers, "c1") == 1
    # Assigning again updates recursive.
    assert (
        client.post(
            "/api/v1/channels/c1/groups/top", params={"recursive": "true"}, headers=headers
        ).status_code
        == 200
    )
    assert _count(client, headers, "c1") == 3
    # Assigning again without recursive keeps it.
    assert client.post("/api/v1/channels/c1/groups/top", headers=headers).status_code == 200
    assert _count(client, headers, "c1") == 3
    # Live: a new group member learns at once; a direct learner already in a group counts once.
    factories.add_to_group(db, users["d"], child)
    client.post("/api/v2/channels/c1/users/a", headers=headers)
    assert _count(client, headers, "c1") == 4
    assert (
        client.post(
            "/api/v1/channels/c1/groups/top", params={"recursive": "false"}, headers=headers
        ).status_code
        == 200
    )
    assert _count(client, headers, "c1") == 1

    r = client.request("DELETE", "/api/v1/channels/c1/groups/top", headers={**headers, **JSON})
    assert (r.status_code, r.content) == (200, b"")
    assert _count(client, headers, "c1") == 1  # "a" is still assigned directly
    client.delete("/api/v1/channels/c1/users/a", headers=headers)
    assert _count(client, headers, "c1") == 0


def test_group_assignment_errors(client, headers, db, account):
    put_channel(client, headers, "c1")
    put_master(client, headers, "m1")
    factories.make_group(db, account, "g1")
    assert_error(client.post("/api/v1/channels/nope/groups/g1", headers=headers), 404, "not_found", "nope")
    assert_error(client.post("/api/v1/channels/c1/groups/nope", headers=headers), 404, "not_found", "nope")
    assert_error(client.post("/api/v1/channels/m1/groups/g1", headers=headers), 404, "not_found")
    for role in ("INSTRUCTOR", "learner", ""):
        r = client.post("/api/v1/channels/c1/groups/g1", params={"userRole": role}, headers=headers)
        assert_error(r, 400, "invalid_request", "userRole")
    assert_error(client.delete("/api/v1/channels/nope/groups/g1", headers=headers), 404, "not_found")
    assert_error(client.delete("/api/v1/channels/c1/groups/nope", headers=headers), 404, "not_found")


def test_other_account_cannot_touch_members(client, headers, auth, db, account):
    put_channel(client, headers, "c1")
    make_user(client, headers, db, account, "u1")
    factories.make_group(db, account, "g1")
    other_account = factories.make_account(db)
    other = auth(other_account)
    assert_error(client.post("/api/v2/channels/c1/users/u1", headers=other), 404, "not_found")
    assert_error(client.post("/api/v1/channels/c1/groups/g1", headers=other), 404, "not_found")
    assert_error(client.delete("/api/v1/channels/c1/users/u1", headers=other), 404, "not_found")
    assert_error(client.get("/api/v2/channels/channels/c1/members/count", headers=other), 404, "not_found")
    # Its own channel cannot take this account's user or group either.
    put_channel(client, other, "mine")
    assert_error(client.post("/api/v2/channels/mine/users/u1", headers=other), 404, "not_found")
    assert_error(client.post("/api/v1/channels/mine/groups/g1", headers=other), 404, "not_found")
