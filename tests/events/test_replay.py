"""Replaying the feed from the start rebuilds users, groups and memberships exactly."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.events.helpers import JSON, cursor, events
from tests.factories import user_body

USERS = ["u1", "u2", "u3"]
GROUPS = ["g1", "g2"]
NAMES = st.sampled_from(["Ana", "Bo", "Cy"])
EXAMPLES = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(st.just("put_user"), st.sampled_from(USERS), NAMES),
        st.tuples(st.just("delete_user"), st.sampled_from(USERS)),
        st.tuples(st.just("rename_user"), st.sampled_from(USERS), st.sampled_from(USERS)),
        st.tuples(st.just("put_group"), st.sampled_from(GROUPS), NAMES),
        st.tuples(st.just("delete_group"), st.sampled_from(GROUPS)),
        st.tuples(st.just("assign"), st.sampled_from(GROUPS), st.sampled_from(USERS), st.booleans()),
        st.tuples(st.just("unassign"), st.sampled_from(GROUPS), st.sampled_from(USERS)),
        # A bulk upload: its users' events and memberships are written as bundles.
        st.tuples(
            st.just("upload"),
            st.lists(
                st.tuples(st.sampled_from(USERS), NAMES, st.lists(st.sampled_from(GROUPS), unique=True)),
                min_size=1,
                max_size=len(USERS),
                unique_by=lambda row: row[0],
            ),
        ),
    ),
    max_size=15,
)


def apply(client: Any, headers: dict[str, str], op: tuple[Any, ...], prefix: str) -> None:
    """One API call; refusals (an unknown user, a taken identifier) are part of the game."""
    kind, *args = op
    args = [f"{prefix}{arg}" if arg in USERS or arg in GROUPS else arg for arg in args]
    if kind == "put_user":
        client.put("/api/v2/users", json=user_body(args[0], firstName=args[1]), headers=headers)
    elif kind == "delete_user":
        client.delete(f"/api/v2/users/{args[0]}", headers=headers)
    elif kind == "rename_user":
        body = {"currentUserIdentifier": args[0], "newUserIdentifier": args[1]}
        client.put("/api/v2/users/identityManagement", json=body, headers=headers)
    elif kind == "put_group":
        client.put("/api/v1/groups", json={"identifier": args[0], "name": args[1]}, headers=headers)
    elif kind == "delete_group":
        client.delete(f"/api/v1/groups/{args[0]}", headers=headers)
    elif kind == "assign":
        params = {"replace": "true"} if args[2] else {}
        client.post(f"/api/v1/groups/{args[0]}/users/{args[1]}", params=params, headers={**headers, **JSON})
    elif kind == "unassign":
        client.delete(f"/api/v1/groups/{args[0]}/users/{args[1]}", headers=headers)
    else:
        rows = [(prefix + user, name, [prefix + g for g in groups]) for user, name, groups in args[0]]
        users = "identifier,firstName,groups\n" + "".join(f"{u},{n},{';'.join(g)}\n" for u, n, g in rows)
        named = sorted({g for *_, groups in rows for g in groups})
        files = [{"fileName": "users.csv", "content": users}]
        if named:
            content = "identifier,name\n" + "".join(f"{g},{g}\n" for g in named)
            files.insert(0, {"fileName": "groups.csv", "content": content})
        r = client.post("/api/v1/uploads/org", json={"files": files}, headers=headers)
        assert r.status_code == 200, r.text


def replay(found: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], set[tuple[str, str]]]:
    users: dict[str, Any] = {}
    groups: dict[str, Any] = {}
    members: set[tuple[str, str]] = set()
    for event in found:
        kind, data = event["type"], event["data"]
        if kind in ("user.created", "user.updated"):
            # An upload's user events carry the fields it manages, the API's the whole user.
            users[data["identifier"]] = {**users.get(data["identifier"], {}), **data}
        elif kind == "user.identifier_changed":
            old = data.pop("previousIdentifier")
            users.pop(old)
            users[data["identifier"]] = data
            members = {(g, data["identifier"] if u == old else u) for g, u in members}
        elif kind == "user.deleted":
            users.pop(data["identifier"])
            members = {(g, u) for g, u in members if u != data["identifier"]}
        elif kind in ("group.created", "group.updated"):
            groups[data["identifier"]] = data
        elif kind == "group.deleted":
            groups.pop(data["identifier"])
            members = {(g, u) for g, u in members if g != data["identifier"]}
        elif kind == "group.member_added":
            members.add((data["groupIdentifier"], data["userIdentifier"]))
        elif kind == "group.member_removed":
            members.remove((data["groupIdentifier"], data["userIdentifier"]))
    return users, groups, members


def current(
    client: Any, headers: dict[str, str], prefix: str
) -> tuple[dict[str, Any], dict[str, Any], set[tuple[str, str]]]:
    users = {}
    members = set()
    for identifier in (prefix + user for user in USERS):
        r = client.get(f"/api/v2/users/{identifier}", headers=headers)
        if r.status_code == 200:
            users[identifier] = r.json()
            r = client.get(f"/api/v1/users/{identifier}/groups", headers=headers)
            members |= {(g["identifier"], identifier) for g in r.json()}
    listed = client.get("/api/v1/groups/list", headers=headers).json()
    groups = {g["identifier"]: g for g in listed if g["identifier"].startswith(prefix)}
    return users, groups, members


@pytest.fixture
def unlimited(app_with: Any) -> Any:
    """A client of an app without the request-rate limit: the examples call faster than a client may."""
    return app_with(rate_limit=0, access_log=False)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, page=st.integers(1, 10))
def test_replaying_the_feed_rebuilds_users_groups_and_memberships(unlimited, headers, ops, page):
    # Each example has identifiers of its own, and replays the feed from where it began, in
    # pages that may end within a bundle.
    client = unlimited
    prefix = f"x{next(EXAMPLES)}-"
    start = cursor(client, headers)
    for op in ops:
        apply(client, headers, op, prefix)
    found = events(client, headers, start, limit=page)
    assert len({event["id"] for event in found}) == len(found)
    users, groups, members = replay(found)
    now_users, now_groups, now_members = current(client, headers, prefix)
    # Every field an event told is the user's field now.
    shown = {
        identifier: {k: now_users[identifier].get(k) for k in user} for identifier, user in users.items()
    }
    assert (users, groups, members) == (shown, now_groups, now_members)
    assert users.keys() == now_users.keys()
