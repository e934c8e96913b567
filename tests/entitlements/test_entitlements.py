"""Users 3.9.3 and 3.9.4: entity roles on courses, groups and workspaces, and their read-back."""

from __future__ import annotations

import pytest

from enabley.schemas import UserRole
from tests import factories
from tests.factories import counted_statements, user_body

URL = "/api/v2/users/entitlements"


def make_user(client, headers, identifier):
    r = client.put("/api/v2/users", json=user_body(identifier), headers=headers)
    assert r.status_code == 201, r.text


def make_group(client, headers, identifier):
    r = client.put("/api/v1/groups", json={"identifier": identifier, "name": "São Paulo"}, headers=headers)
    assert r.status_code == 201, r.text


def make_workspace(client, headers, identifier):
    r = client.put("/api/admin/v1/workspaces", json={"identifier": identifier, "name": "W"}, headers=headers)
    assert r.status_code == 201, r.text


def entitlement(entity, entity_type, user="u", role="MANAGER"):
    return {"entityIdentifier": entity, "entityType": entity_type, "userIdentifier": user, "userRole": role}


def add(client, headers, body):
    return client.post(URL, json=body, headers=headers)


def remove(client, headers, body):
    return client.request("DELETE", URL, json=body, headers=headers)


def held(client, headers, user="u"):
    r = client.get(f"/api/v2/users/{user}/entitlements", headers=headers)
    assert r.status_code == 200, r.text
    return [(e["entityType"], e["entityIdentifier"], e["userRole"]) for e in r.json()]


@pytest.fixture
def world(client, headers, db, account):
    make_user(client, headers, "u")
    make_group(client, headers, "g")
    make_workspace(client, headers, "w")
    factories.make_course(db, account, "c")
    factories.make_course(db, account, "m", is_master=True)


def test_add_roles_on_each_kind_of_entity_and_read_them_back(client, headers, world):
    for body in (
        entitlement("c", "COURSE", role="INSTRUCTOR"),
        entitlement("g", "GROUP", role="MANAGER"),
        entitlement("w", "WORKSPACE", role="EDITOR"),
    ):
        r = add(client, headers, body)
        assert r.status_code == 200 and r.content == b"", r.text
    assert held(client, headers) == [
        ("COURSE", "c", "INSTRUCTOR"),
        ("GROUP", "g", "MANAGER"),
        ("WORKSPACE", "w", "EDITOR"),
    ]
    r = client.get("/api/v2/users/u/entitlements", headers=headers)
    assert r.json()[0] == entitlement("c", "COURSE", role="INSTRUCTOR")


def test_adding_twice_is_harmless_and_roles_on_one_entity_add_up(client, headers, world):
    assert add(client, headers, entitlement("g", "GROUP")).status_code == 200
    assert add(client, headers, entitlement("g", "GROUP")).status_code == 200
    assert add(client, headers, entitlement("g", "GROUP", role="EDITOR")).status_code == 200
    assert held(client, headers) == [("GROUP", "g", "MANAGER"), ("GROUP", "g", "EDITOR")]


def test_remove_takes_that_role_only_and_a_missing_one_is_fine(client, headers, world):
    add(client, headers, entitlement("g", "GROUP"))
    add(client, headers, entitlement("g", "GROUP", role="EDITOR"))
    add(client, headers, entitlement("w", "WORKSPACE"))
    r = remove(client, headers, entitlement("g", "GROUP"))
    assert r.status_code == 200 and r.content == b""
    assert held(client, headers) == [("GROUP", "g", "EDITOR"), ("WORKSPACE", "w", "MANAGER")]
    assert remove(client, headers, entitlement("g", "GROUP")).status_code == 200, "already gone"
    assert remove(client, headers, entitlement("c", "COURSE", role="LEARNER")).status_code == 200, (
        "never held"
    )


@pytest.mark.parametrize("role", list(UserRole))
def test_every_user_role_is_accepted(client, headers, world, role):
    assert add(client, headers, entitlement("w", "WORKSPACE", role=role.value)).status_code == 200
    assert held(client, headers) == [("WORKSPACE", "w", role.value)]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"userRole": "OWNER"}, "userRole"),
        ({"userRole": "manager"}, "userRole"),
        ({"entityType": "CHANNEL"}, "entityType"),
        ({"entityIdentifier": ""}, "entityIdentifier"),
        ({"userIdentifier": None}, "userIdentifier"),
    ],
)
def test_invalid_body_is_400_naming_the_field(client, headers, world, change, named):
    body = {**entitlement("g", "GROUP"), **change}
    for call in (add, remove):
        r = call(client, headers, body)
        assert r.status_code == 400 and named in r.json()["error_description"], r.text


def test_missing_body_is_400(client, headers, world):
    r = client.post(URL, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 400
    r = client.delete(URL, headers=headers)
    assert r.status_code == 400, "not taken for DELETE /api/v2/users/{identifier}"


@pytest.mark.parametrize(
    ("entity", "entity_type", "user"),
    [
        ("nope", "GROUP", "u"),
        ("nope", "WORKSPACE", "u"),
        ("nope", "COURSE", "u"),
        ("m", "COURSE", "u"),
        ("g", "WORKSPACE", "u"),
        ("w", "GROUP", "u"),
        ("g", "GROUP", "nobody"),
    ],
)
def test_unknown_user_or_entity_is_404(client, headers, world, entity, entity_type, user):
    for call in (add, remove):
        r = call(client, headers, entitlement(entity, entity_type, user=user))
        assert r.status_code == 404, r.text
        assert f"'{user if user == 'nobody' else entity}'" in r.json()["error_description"]


def test_read_back_of_unknown_user_is_404(client, headers):
    r = client.get("/api/v2/users/nobody/entitlements", headers=headers)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_uuid_identifiers(client, headers, db, account):
    import uuid

    user, group = str(uuid.uuid4()), str(uuid.uuid4())
    make_user(client, headers, user)
    make_group(client, headers, group)
    assert add(client, headers, entitlement(group, "GROUP", user=user)).status_code == 200
    assert held(client, headers, user) == [("GROUP", group, "MANAGER")]


def test_deleting_the_user_forgets_their_entitlements(client, headers, world):
    add(client, headers, entitlement("g", "GROUP"))
    assert client.delete("/api/v2/users/u", headers=headers).status_code == 200
    make_user(client, headers, "u")
    assert held(client, headers) == []


def test_read_back_runs_a_fixed_number_of_statements(client, headers, world, db, account, engine):
    add(client, headers, entitlement("g", "GROUP"))
    with counted_statements(engine) as few:
        assert len(held(client, headers)) == 1
    for n in range(4):
        make_group(client, headers, f"g{n}")
        make_workspace(client, headers, f"w{n}")
        factories.make_course(db, account, f"c{n}")
        add(client, headers, entitlement(f"g{n}", "GROUP"))
        add(client, headers, entitlement(f"w{n}", "WORKSPACE"))
        add(client, headers, entitlement(f"c{n}", "COURSE"))
    with counted_statements(engine) as many:
        assert len(held(client, headers)) == 13
    assert len(many) == len(few)


def test_another_accounts_users_and_entities_are_not_found(client, headers, auth, db, world):
    other_account = factories.make_account(db)
    other = auth(other_account)
    make_user(client, other, "them")
    factories.make_course(db, other_account, "theirs")
    add(client, headers, entitlement("g", "GROUP"))
    for call in (add, remove):
        assert call(client, other, entitlement("g", "GROUP", user="them")).status_code == 404
        assert call(client, other, entitlement("w", "WORKSPACE", user="them")).status_code == 404
        assert call(client, other, entitlement("c", "COURSE", user="them")).status_code == 404
        assert call(client, headers, entitlement("theirs", "COURSE", user="u")).status_code == 404
        assert call(client, other, entitlement("theirs", "COURSE", user="u")).status_code == 404
    assert client.get("/api/v2/users/u/entitlements", headers=other).status_code == 404
    assert held(client, headers) == [("GROUP", "g", "MANAGER")]


def test_requires_a_token(client):
    assert client.post(URL, json=entitlement("g", "GROUP")).status_code == 401
    assert client.get("/api/v2/users/u/entitlements").status_code == 401
