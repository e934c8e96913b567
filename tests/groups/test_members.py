"""Groups 3.5.4, 3.5.5, 3.5.7 and 3.5.8: members, deletion and a user's groups."""

from __future__ import annotations

from sqlalchemy import select

from enabley.models import ChannelGroup, Entitlement, Group
from tests import factories
from tests.factories import counted_statements, user_body

JSON = {"Content-Type": "application/json"}


def make_group(client, headers, identifier, **fields):
    body = {"identifier": identifier, "name": fields.pop("name", identifier), **fields}
    r = client.put("/api/v1/groups", json=body, headers=headers)
    assert r.status_code in (200, 201), r.text


def make_user(client, headers, identifier):
    r = client.put("/api/v2/users", json=user_body(identifier), headers=headers)
    assert r.status_code == 201, r.text


def assign(client, headers, group, user, **params):
    return client.post(f"/api/v1/groups/{group}/users/{user}", params=params, headers={**headers, **JSON})


def groups_of(client, headers, user, **params):
    r = client.get(f"/api/v1/users/{user}/groups", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return [g["identifier"] for g in r.json()]


def test_assign_user_to_group_answers_200_without_body(client, headers):
    make_group(client, headers, "g")
    make_user(client, headers, "u")
    r = assign(client, headers, "g", "u")
    assert r.status_code == 200 and r.content == b""
    assert groups_of(client, headers, "u") == ["g"]


def test_assigning_twice_is_harmless(client, headers):
    make_group(client, headers, "g")
    make_user(client, headers, "u")
    assert assign(client, headers, "g", "u").status_code == 200
    assert assign(client, headers, "g", "u").status_code == 200
    assert groups_of(client, headers, "u") == ["g"]


def test_replace_removes_the_users_other_groups(client, headers):
    for g in ("a", "b", "c"):
        make_group(client, headers, g)
    make_user(client, headers, "u")
    make_user(client, headers, "v")
    assign(client, headers, "a", "u")
    assign(client, headers, "b", "u")
    assign(client, headers, "a", "v")
    assert assign(client, headers, "c", "u", replace="false").status_code == 200
    assert groups_of(client, headers, "u") == ["a", "b", "c"]
    assert assign(client, headers, "b", "u", replace="true").status_code == 200
    assert groups_of(client, headers, "u") == ["b"]
    assert groups_of(client, headers, "v") == ["a"], "other users keep their groups"
    assert assign(client, headers, "b", "u", replace="maybe").status_code == 400


def test_assign_unknown_user_or_group_is_404(client, headers):
    make_group(client, headers, "g")
    make_user(client, headers, "u")
    r = assign(client, headers, "nope", "u")
    assert r.status_code == 404 and "'nope'" in r.json()["error_description"]
    r = assign(client, headers, "g", "nobody")
    assert r.status_code == 404 and "'nobody'" in r.json()["error_description"]


def test_remove_user_from_group(client, headers):
    make_group(client, headers, "a")
    make_group(client, headers, "b")
    make_user(client, headers, "u")
    assign(client, headers, "a", "u")
    assign(client, headers, "b", "u")
    r = client.delete("/api/v1/groups/a/users/u", headers=headers)
    assert r.status_code == 200 and r.content == b""
    assert groups_of(client, headers, "u") == ["b"]
    assert client.delete("/api/v1/groups/a/users/u", headers=headers).status_code == 200, "not a member: fine"
    assert client.delete("/api/v1/groups/nope/users/u", headers=headers).status_code == 404
    assert client.delete("/api/v1/groups/a/users/nobody", headers=headers).status_code == 404


def test_delete_with_an_ignored_json_body(client, headers):
    make_group(client, headers, "g")
    make_user(client, headers, "u")
    assign(client, headers, "g", "u")
    r = client.request("DELETE", "/api/v1/groups/g/users/u", json={"any": "thing"}, headers=headers)
    assert r.status_code == 200
    r = client.request("DELETE", "/api/v1/groups/g", content=b"", headers={**headers, **JSON})
    assert r.status_code == 200


def test_find_user_groups_by_sub_account(client, headers):
    make_group(client, headers, "eu", subAccountName="EU")
    make_group(client, headers, "us", subAccountName="US")
    make_group(client, headers, "none")
    make_group(client, headers, "not-mine", subAccountName="EU")
    make_user(client, headers, "u")
    for g in ("us", "none", "eu"):
        assign(client, headers, g, "u")
    assert groups_of(client, headers, "u") == ["eu", "us", "none"], "in the groups' creation order"
    assert groups_of(client, headers, "u", subAccountName="EU") == ["eu"]
    r = client.get("/api/v1/users/u/groups", params={"subAccountName": "Mars"}, headers=headers)
    assert r.status_code == 400
    r = client.get("/api/v1/users/nobody/groups", headers=headers)
    assert r.status_code == 404 and "'nobody'" in r.json()["error_description"]
    make_user(client, headers, "loner")
    assert groups_of(client, headers, "loner") == []


def test_find_user_groups_answers_full_group_info(client, headers):
    make_group(client, headers, "root", name="Brasil")
    make_group(
        client, headers, "sp", name="São Paulo", parentIdentifier="root", subAccountName="EU", type="City"
    )
    make_user(client, headers, "u")
    assign(client, headers, "sp", "u")
    r = client.get("/api/v1/users/u/groups", headers=headers)
    (info,) = r.json()
    assert info == client.get("/api/v1/groups/sp", headers=headers).json()
    assert (info["name"], info["parentIdentifier"], info["subAccountName"], info["type"]) == (
        "São Paulo",
        "root",
        "EU",
        "City",
    )


def test_user_groups_run_a_fixed_number_of_statements(client, headers, engine):
    make_group(client, headers, "root", subAccountName="EU")
    make_user(client, headers, "u")
    assign(client, headers, "root", "u")
    with counted_statements(engine) as few:
        assert len(groups_of(client, headers, "u")) == 1
    for n in range(6):
        make_group(client, headers, f"g{n}", parentIdentifier="root", subAccountName="US")
        assign(client, headers, f"g{n}", "u")
    with counted_statements(engine) as many:
        assert len(groups_of(client, headers, "u")) == 7
    assert len(many) == len(few)


def test_delete_group_removes_memberships_channel_assignments_and_group_entitlements(
    client, headers, db, account
):
    make_group(client, headers, "doomed")
    make_group(client, headers, "kept")
    make_user(client, headers, "u")
    assign(client, headers, "doomed", "u")
    assign(client, headers, "kept", "u")
    course = factories.make_course(db, account)
    group_ids = dict(
        db.execute(select(Group.external_id, Group.id).where(Group.account_id == account.id)).all()
    )
    db.add_all(
        [
            ChannelGroup(channel_id=course.id, group_id=group_ids["doomed"]),
            ChannelGroup(channel_id=course.id, group_id=group_ids["kept"]),
        ]
    )
    db.flush()
    for group in ("doomed", "kept"):
        body = {
            "entityIdentifier": group,
            "entityType": "GROUP",
            "userIdentifier": "u",
            "userRole": "MANAGER",
        }
        assert client.post("/api/v2/users/entitlements", json=body, headers=headers).status_code == 200
    body = {
        "entityIdentifier": course.external_id,
        "entityType": "COURSE",
        "userIdentifier": "u",
        "userRole": "EDITOR",
    }
    assert client.post("/api/v2/users/entitlements", json=body, headers=headers).status_code == 200

    r = client.delete("/api/v1/groups/doomed", headers=headers)
    assert r.status_code == 200 and r.content == b""

    assert client.get("/api/v1/groups/doomed", headers=headers).status_code == 404
    assert groups_of(client, headers, "u") == ["kept"]
    assigned = set(db.scalars(select(ChannelGroup.group_id).where(ChannelGroup.channel_id == course.id)))
    assert assigned == {group_ids["kept"]}
    entitlements = client.get("/api/v2/users/u/entitlements", headers=headers).json()
    assert {(e["entityType"], e["entityIdentifier"]) for e in entitlements} == {
        ("GROUP", "kept"),
        ("COURSE", course.external_id),
    }
    rows = db.scalars(select(Entitlement.entity_id).where(Entitlement.entity_type == "GROUP"))
    assert group_ids["doomed"] not in set(rows), "no row is left to point at a reused id"


def test_delete_group_with_child_groups_is_refused(client, headers):
    make_group(client, headers, "parent")
    make_group(client, headers, "child", parentIdentifier="parent")
    r = client.delete("/api/v1/groups/parent", headers=headers)
    assert r.status_code == 400 and "'child'" in r.json()["error_description"]
    assert client.get("/api/v1/groups/parent", headers=headers).status_code == 200
    assert client.delete("/api/v1/groups/child", headers=headers).status_code == 200
    assert client.delete("/api/v1/groups/parent", headers=headers).status_code == 200


def test_delete_unknown_group_is_404(client, headers):
    r = client.delete("/api/v1/groups/nope", headers=headers)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_deleted_identifier_can_be_created_again(client, headers):
    make_group(client, headers, "g", name="Old")
    assert client.delete("/api/v1/groups/g", headers=headers).status_code == 200
    r = client.put("/api/v1/groups", json={"identifier": "g", "name": "New"}, headers=headers)
    assert r.status_code == 201 and r.json()["name"] == "New"


def test_another_accounts_groups_and_users_are_not_found(client, headers, auth, db):
    other = auth(factories.make_account(db))
    make_group(client, headers, "g")
    make_user(client, headers, "u")
    assign(client, headers, "g", "u")
    make_group(client, other, "theirs")
    make_user(client, other, "them")
    assert assign(client, other, "g", "them").status_code == 404
    assert assign(client, other, "theirs", "u").status_code == 404
    assert client.delete("/api/v1/groups/g/users/u", headers=other).status_code == 404
    assert client.get("/api/v1/users/u/groups", headers=other).status_code == 404
    assert client.delete("/api/v1/groups/g", headers=other).status_code == 404
    assert groups_of(client, headers, "u") == ["g"]
