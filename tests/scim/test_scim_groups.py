"""SCIM Groups: members are the group's direct members; created without a parent."""

from __future__ import annotations

from tests.factories import counted_statements
from tests.scim.conftest import GROUP_URN, assert_error, patch, user


def make_user(client, scim, name):
    response = client.post("/scim/v2/Users", json=user(name), headers=scim)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def make_group(client, scim, name, members=(), **fields):
    body = {"schemas": [GROUP_URN], "displayName": name, "members": [{"value": m} for m in members], **fields}
    response = client.post("/scim/v2/Groups", json=body, headers=scim)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_get_and_members(client, scim, headers):
    ana = make_user(client, scim, "g-ana@example.com")
    group = make_group(client, scim, "Sales", [ana], externalId="okta-sales")
    assert group["id"] == "okta-sales" and group["displayName"] == "Sales"
    assert [m["value"] for m in group["members"]] == [ana]
    assert group["members"][0]["$ref"].endswith(f"/scim/v2/Users/{ana}")
    fetched = client.get(f"/scim/v2/Groups/{group['id']}", headers=scim).json()
    assert fetched == group
    # The integration API sees the same group, without a parent, and its member.
    info = client.get(f"/api/v1/groups/{group['id']}", headers=headers).json()
    assert info["name"] == "Sales" and info["parentIdentifier"] is None
    member_of = client.get(f"/api/v1/users/{ana}/groups", headers=headers).json()
    assert [g["identifier"] for g in member_of] == [group["id"]]
    in_user = client.get(f"/scim/v2/Users/{ana}", headers=scim).json()
    assert in_user["groups"][0]["value"] == group["id"]


def test_unknown_member_is_400(client, scim):
    body = {"schemas": [GROUP_URN], "displayName": "X", "members": [{"value": "nobody"}]}
    assert_error(client.post("/scim/v2/Groups", json=body, headers=scim), 400, "invalidValue")


def test_excluded_members_and_filters(client, scim):
    ana = make_user(client, scim, "f-ana@example.com")
    make_group(client, scim, "Alpha", [ana])
    make_group(client, scim, "Beta")
    listed = client.get("/scim/v2/Groups", params={"excludedAttributes": "members"}, headers=scim).json()
    assert listed["totalResults"] == 2
    assert all("members" not in g for g in listed["Resources"])

    def names(expression):
        response = client.get("/scim/v2/Groups", params={"filter": expression}, headers=scim)
        assert response.status_code == 200, response.text
        return [g["displayName"] for g in response.json()["Resources"]]

    assert names('displayName eq "Beta"') == ["Beta"]
    assert names(f'members[value eq "{ana}"]') == ["Alpha"]
    assert names(f'members.value eq "{ana}"') == ["Alpha"]
    assert names('externalId eq "none"') == []
    assert_error(
        client.get("/scim/v2/Groups", params={"filter": "userName eq 1"}, headers=scim), 400, "invalidFilter"
    )


def test_put_replaces_members_and_patch_adds_and_removes(client, scim):
    ana, bia = make_user(client, scim, "p-ana@example.com"), make_user(client, scim, "p-bia@example.com")
    group = make_group(client, scim, "Team", [ana])
    path = f"/scim/v2/Groups/{group['id']}"
    replaced = client.put(
        path,
        json={"schemas": [GROUP_URN], "displayName": "Team 2", "members": [{"value": bia}]},
        headers=scim,
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["displayName"] == "Team 2"
    assert [m["value"] for m in replaced.json()["members"]] == [bia]
    added = client.patch(
        path, json=patch({"op": "add", "path": "members", "value": [{"value": ana}]}), headers=scim
    )
    assert added.status_code == 200, added.text
    assert sorted(m["value"] for m in added.json()["members"]) == sorted([ana, bia])
    removed = client.patch(
        path, json=patch({"op": "remove", "path": f'members[value eq "{bia}"]'}), headers=scim
    )
    assert [m["value"] for m in removed.json()["members"]] == [ana]


def test_delete_removes_the_group_and_its_memberships(client, scim):
    ana = make_user(client, scim, "d-ana@example.com")
    group = make_group(client, scim, "Doomed", [ana])
    assert client.delete(f"/scim/v2/Groups/{group['id']}", headers=scim).status_code == 204
    assert_error(client.get(f"/scim/v2/Groups/{group['id']}", headers=scim), 404)
    assert "groups" not in client.get(f"/scim/v2/Users/{ana}", headers=scim).json()


def test_group_type_of_the_token_where_the_hierarchy_needs_one(client, db, account, headers, scim_token):
    assert (
        client.put("/api/admin/v1/groups/hierarchy", json=["Region", "Team"], headers=headers).status_code
        == 200
    )
    typed = scim_token(account, group_type="Team")
    group = make_group(client, typed, "Typed")
    assert client.get(f"/api/v1/groups/{group['id']}", headers=headers).json()["type"] == "Team"


def test_search_at_the_root_lists_users_then_groups(client, scim):
    ana = make_user(client, scim, "root-ana@example.com")
    make_group(client, scim, "Root group", [ana])
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": 10}
    found = client.post("/scim/v2/.search", json=body, headers=scim).json()
    assert found["totalResults"] == 2
    assert [r["schemas"][0].rsplit(":", 1)[1] for r in found["Resources"]] == ["User", "Group"]
    second = client.post("/scim/v2/.search", json={**body, "startIndex": 2}, headers=scim).json()
    assert [r["displayName"] for r in second["Resources"]] == ["Root group"]
    only_groups = {**body, "filter": 'displayName eq "Root group"'}
    assert client.post("/scim/v2/.search", json=only_groups, headers=scim).json()["totalResults"] == 1
    by_member = {**body, "filter": f'members.value eq "{ana}"'}
    assert client.post("/scim/v2/.search", json=by_member, headers=scim).json()["totalResults"] == 1
    neither = {**body, "filter": 'nothing eq "x"'}
    assert_error(client.post("/scim/v2/.search", json=neither, headers=scim), 400, "invalidFilter")


def test_lists_read_members_and_groups_in_a_fixed_number_of_statements(client, scim, engine):
    def statements(path: str, count: int) -> int:
        with counted_statements(engine) as seen:
            response = client.get(path, params={"count": count}, headers=scim)
        assert response.status_code == 200 and len(response.json()["Resources"]) == count
        return len(seen)

    users = [make_user(client, scim, f"n{n}@example.com") for n in range(4)]
    for n in range(4):
        make_group(client, scim, f"N+1 {n}", users)
    assert statements("/scim/v2/Users", 1) == statements("/scim/v2/Users", 4)
    assert statements("/scim/v2/Groups", 1) == statements("/scim/v2/Groups", 4)
