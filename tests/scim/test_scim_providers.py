"""What Microsoft Entra ID and Okta actually send, one test per habit, in their own words."""

from __future__ import annotations

import uuid

from tests.scim.conftest import ENTERPRISE_URN, GROUP_URN, PATCH_URN, USER_URN, assert_error

# --- Microsoft Entra ID ---------------------------------------------------------------------


def entra_user(suffix: str) -> dict:
    return {
        "schemas": [USER_URN, ENTERPRISE_URN],
        "externalId": f"entra-{suffix}",
        "userName": f"Test_User_{suffix}@contoso.com",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": f"Test_User_{suffix}@contoso.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
    }


def entra_create(client, scim, suffix):
    response = client.post("/scim/v2/Users", json=entra_user(suffix), headers=scim)
    assert response.status_code == 201, response.text
    return response.json()


def ops(*operations):
    return {"schemas": [PATCH_URN], "Operations": list(operations)}


def test_entra_test_connection_gets_a_random_id_and_filters_a_random_username(client, scim):
    assert_error(client.get(f"/scim/v2/Users/{uuid.uuid4()}", headers=scim), 404)
    expression = f'userName eq "non-existent user {uuid.uuid4()}"'
    found = client.get("/scim/v2/Users", params={"filter": expression}, headers=scim)
    assert found.status_code == 200 and found.json()["totalResults"] == 0


def test_entra_looks_users_up_by_username_and_external_id(client, scim):
    created = entra_create(client, scim, "a1")
    for expression in ('userName eq "Test_User_a1@contoso.com"', 'externalId eq "entra-a1"'):
        found = client.get("/scim/v2/Users", params={"filter": expression}, headers=scim).json()
        assert [u["id"] for u in found["Resources"]] == [created["id"]]


def test_entra_capitalised_ops_of_several_kinds_in_one_patch(client, scim):
    created = entra_create(client, scim, "a2")
    body = ops(
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updated@contoso.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Add", "path": f"{ENTERPRISE_URN}:department", "value": "Finance"},
        {"op": "Add", "path": "title", "value": "Analyst"},
        {"op": "Remove", "path": "name.formatted"},
    )
    response = client.patch(f"/scim/v2/Users/{created['id']}", json=body, headers=scim)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["emails"][0]["value"] == "updated@contoso.com"
    assert patched["name"] == {"familyName": "updatedFamilyName", "givenName": "givenName"}
    assert patched[ENTERPRISE_URN]["department"] == "Finance" and patched["title"] == "Analyst"


def test_entra_sends_booleans_as_strings(client, scim):
    created = entra_create(client, scim, "a3")
    path = f"/scim/v2/Users/{created['id']}"
    off = client.patch(path, json=ops({"op": "Replace", "path": "active", "value": "False"}), headers=scim)
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False
    on = client.patch(path, json=ops({"op": "Replace", "path": "active", "value": "True"}), headers=scim)
    assert on.json()["active"] is True
    listed = client.patch(
        path, json=ops({"op": "Replace", "path": "active", "value": [{"value": "False"}]}), headers=scim
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["active"] is False


def test_entra_manager_as_a_bare_value(client, scim):
    boss = entra_create(client, scim, "boss")
    created = entra_create(client, scim, "a4")
    body = ops({"op": "Add", "path": f"{ENTERPRISE_URN}:manager", "value": boss["id"]})
    response = client.patch(f"/scim/v2/Users/{created['id']}", json=body, headers=scim)
    assert response.status_code == 200, response.text
    assert response.json()[ENTERPRISE_URN]["manager"]["value"] == boss["id"]


def test_entra_soft_deletes_then_deletes(client, scim, headers):
    created = entra_create(client, scim, "a5")
    path = f"/scim/v2/Users/{created['id']}"
    off = client.patch(path, json=ops({"op": "Replace", "path": "active", "value": "False"}), headers=scim)
    assert off.status_code == 200
    assert client.get(f"/api/v2/users/{created['id']}", headers=headers).json()["isActive"] is False
    assert client.delete(path, headers=scim).status_code == 204
    assert client.get(f"/api/v2/users/{created['id']}", headers=headers).status_code == 404


def test_entra_groups_by_display_name_without_members_then_member_changes(client, scim):
    member = entra_create(client, scim, "a6")
    group_body = {
        "externalId": "entra-g1",
        "displayName": "Group_1",
        "meta": {"resourceType": "Group"},
        "members": [],
        "schemas": [GROUP_URN],
    }
    group = client.post("/scim/v2/Groups", json=group_body, headers=scim).json()
    params = {"filter": 'displayName eq "Group_1"', "excludedAttributes": "members"}
    found = client.get("/scim/v2/Groups", params=params, headers=scim).json()
    assert [g["id"] for g in found["Resources"]] == [group["id"]]
    assert "members" not in found["Resources"][0]
    path = f"/scim/v2/Groups/{group['id']}"
    added = client.patch(
        path, json=ops({"op": "Add", "path": "members", "value": [{"value": member["id"]}]}), headers=scim
    )
    assert added.status_code == 200, added.text
    assert [m["value"] for m in client.get(path, headers=scim).json()["members"]] == [member["id"]]
    removed = client.patch(
        path, json=ops({"op": "Remove", "path": "members", "value": [{"value": member["id"]}]}), headers=scim
    )
    assert removed.status_code == 200, removed.text
    assert "members" not in client.get(path, headers=scim).json()


# --- Okta -----------------------------------------------------------------------------------


def okta_user(login: str, password: bool = False) -> dict:
    """Okta's user body; with its password only where the test needs it (argon2 takes its time)."""
    body = {
        "schemas": [USER_URN],
        "userName": login,
        "name": {"givenName": "Isaac", "familyName": "Brock"},
        "emails": [{"primary": True, "value": login, "type": "work"}],
        "displayName": "Isaac Brock",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "active": True,
    }
    if password:
        body["password"] = "1mz050nq"
    return body


def test_okta_connection_test_lists_two_users(client, scim):
    response = client.get("/scim/v2/Users", params={"startIndex": 1, "count": 2}, headers=scim)
    assert response.status_code == 200, response.text
    assert response.json()["startIndex"] == 1 and response.json()["Resources"] == []


def test_okta_filters_username_case_insensitively_before_creating_and_gets_409(client, scim):
    query = {"filter": 'userName eq "Isaac.Brock@Example.com"', "startIndex": 1, "count": 100}
    assert client.get("/scim/v2/Users", params=query, headers=scim).json()["totalResults"] == 0
    created = client.post(
        "/scim/v2/Users", json=okta_user("isaac.brock@example.com", password=True), headers=scim
    )
    assert created.status_code == 201, created.text
    found = client.get("/scim/v2/Users", params=query, headers=scim).json()
    assert [u["id"] for u in found["Resources"]] == [created.json()["id"]]
    again = client.post("/scim/v2/Users", json=okta_user("Isaac.Brock@example.com"), headers=scim)
    assert_error(again, 409, "uniqueness")


def test_okta_deactivates_with_a_patch_without_path(client, scim):
    created = client.post("/scim/v2/Users", json=okta_user("deact@example.com"), headers=scim).json()
    body = ops({"op": "replace", "value": {"active": False}})
    response = client.patch(f"/scim/v2/Users/{created['id']}", json=body, headers=scim)
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False


def test_okta_pushes_groups_as_remove_then_add_and_renames_without_path(client, scim):
    one = client.post("/scim/v2/Users", json=okta_user("one@example.com"), headers=scim).json()
    two_body = {**okta_user("two@example.com"), "externalId": "00uother"}
    two = client.post("/scim/v2/Users", json=two_body, headers=scim).json()
    group_body = {
        "schemas": [GROUP_URN],
        "displayName": "Test SCIMv2",
        "members": [{"value": one["id"], "display": "one@example.com"}],
    }
    group = client.post("/scim/v2/Groups", json=group_body, headers=scim).json()
    path = f"/scim/v2/Groups/{group['id']}"
    push = ops(
        {"op": "remove", "path": f'members[value eq "{one["id"]}"]'},
        {"op": "add", "path": "members", "value": [{"value": two["id"], "display": "two@example.com"}]},
    )
    pushed = client.patch(path, json=push, headers=scim)
    assert pushed.status_code == 200, pushed.text
    assert [m["value"] for m in client.get(path, headers=scim).json()["members"]] == [two["id"]]
    rename = ops({"op": "replace", "value": {"id": group["id"], "displayName": "Renamed"}})
    renamed = client.patch(path, json=rename, headers=scim)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["displayName"] == "Renamed"


def test_okta_replaces_a_user_with_put(client, scim):
    created = client.post("/scim/v2/Users", json=okta_user("put.okta@example.com"), headers=scim).json()
    body = {
        **okta_user("put.okta@example.com"),
        "id": created["id"],
        "name": {"givenName": "Izzy", "familyName": "Brock"},
    }
    response = client.put(f"/scim/v2/Users/{created['id']}", json=body, headers=scim)
    assert response.status_code == 200, response.text
    assert response.json()["name"]["givenName"] == "Izzy"
