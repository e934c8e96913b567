"""Users, groups, profiles and entitlements through the SDK, against the real application."""

from __future__ import annotations

import pytest

from enabley.client import (
    EntityType,
    ExternalEntitlement,
    GroupData,
    InvalidRequest,
    ItemExists,
    NotFound,
    Permission,
    UserData,
    UserInfo,
    UserProfileData,
    UserRole,
)


def test_upsert_says_created_then_updated_and_sends_only_the_fields_set(sdk):
    user, created = sdk.users.upsert(
        UserData(identifier="ana", email="ana@acme.example.com", first_name="Ana", sub_account_name="EU")
    )
    assert created is True
    assert isinstance(user, UserInfo)
    assert (user.identifier, user.email, user.first_name, user.user_sub_account_names) == (
        "ana",
        "ana@acme.example.com",
        "Ana",
        ["EU"],
    )

    result = sdk.users.upsert({"identifier": "ana", "lastName": "Souza"})
    assert result.created is False
    assert (result.item.first_name, result.item.last_name) == ("Ana", "Souza")


def test_get_status_identifier_change_and_delete(sdk):
    sdk.users.upsert(UserData(identifier="bo", email="bo@acme.example.com", sub_account_name="US"))
    assert sdk.users.get("bo").email == "bo@acme.example.com"
    assert sdk.users.get("bo", sub_account_name="US").identifier == "bo"
    with pytest.raises(NotFound):
        sdk.users.get("bo", sub_account_name="EU")

    assert sdk.users.set_active("bo", False).is_active is False
    assert sdk.users.change_identifier("bo", "bo-2").identifier == "bo-2"
    sdk.users.remove_from_sub_account("bo-2", "US")
    assert sdk.users.get("bo-2").user_sub_account_names == []
    sdk.users.delete("bo-2")
    with pytest.raises(NotFound) as caught:
        sdk.users.get("bo-2")
    assert (caught.value.status, caught.value.error) == (404, "not_found")


def test_identifiers_are_percent_encoded_in_paths(sdk):
    sdk.users.upsert(UserData(identifier="ana maria?x=1&y#z", email="am@acme.example.com"))
    assert sdk.users.get("ana maria?x=1&y#z").email == "am@acme.example.com"


def test_iter_follows_the_pagination_key_to_the_end(sdk, page_size):
    page_size(3)
    for i in range(8):
        sdk.users.upsert(UserData(identifier=f"u{i}", email=f"u{i}@acme.example.com"))
    sdk.users.upsert(UserData(identifier="other", email="other@elsewhere.example.com"))

    found = [user.identifier for user in sdk.users.iter(email_substring="@acme")]
    assert sorted(found) == [f"u{i}" for i in range(8)]
    assert len(found) == len(set(found))

    pages = list(sdk.users.pages(email_substring="@acme"))
    assert [len(p.items) for p in pages] == [3, 3, 2]
    assert [p.current_page for p in pages] == [1, 2, 3]
    assert {p.total_pages for p in pages} == {3}
    assert pages[-1].pagination_key is None

    first = sdk.users.list(email_substring="@acme")
    second = sdk.users.list(pagination_key=first.pagination_key)
    assert [u.identifier for u in second.items] == [u.identifier for u in pages[1].items]


def test_find_pages_by_start_and_limit(sdk):
    for i in range(5):
        sdk.users.upsert(UserData(identifier=f"f{i}", email=f"f{i}@acme.example.com", first_name="Fay"))
    window = sdk.users.find(start=1, limit=2, first_name_substring="Fay")
    everyone = sdk.users.find(first_name_substring="Fay")
    assert [u.identifier for u in window] == [u.identifier for u in everyone[1:3]]


def test_unknown_filter_is_refused_before_any_request(sdk):
    with pytest.raises(TypeError, match="emial"):
        sdk.users.list(emial="x")  # type: ignore[call-arg]


def test_invalid_input_and_conflicts_raise_typed_errors(sdk):
    with pytest.raises(InvalidRequest) as caught:
        sdk.users.upsert(UserData(identifier="bad", email="not-an-email"))
    assert caught.value.status == 400
    assert "email" in caught.value.error_description

    sdk.users.upsert(UserData(identifier="one"))
    sdk.users.upsert(UserData(identifier="two"))
    with pytest.raises(ItemExists) as conflict:
        sdk.users.change_identifier("one", "two")
    assert (conflict.value.status, conflict.value.error) == (409, "item_exists")


def test_permissions_round_trip(sdk):
    sdk.users.upsert(UserData(identifier="ins", possible_roles=[UserRole.INSTRUCTOR]))
    assert sdk.users.set_permissions("ins", ["INSTRUCTOR_CREATE_COURSE"]) == [
        Permission.INSTRUCTOR_CREATE_COURSE
    ]
    assert sdk.users.get_permissions("ins") == [Permission.INSTRUCTOR_CREATE_COURSE]


def test_groups_tree_and_members(sdk):
    assert sdk.admin.groups.set_hierarchy(["Region", "Country"]) == ["Region", "Country"]
    assert sdk.groups.hierarchy() == ["Region", "Country"]
    region, created = sdk.groups.upsert(GroupData(identifier="emea", name="EMEA", type="Region"))
    assert created and region.type == "Region"
    sdk.groups.upsert(GroupData(identifier="pt", name="Portugal", type="Country", parent_identifier="emea"))
    assert {g.identifier for g in sdk.groups.list()} == {"emea", "pt"}
    assert sdk.groups.get("pt").parent_identifier == "emea"

    sdk.users.upsert(UserData(identifier="ana"))
    sdk.groups.add_user("pt", "ana")
    assert [g.identifier for g in sdk.groups.of_user("ana")] == ["pt"]
    sdk.groups.add_user("emea", "ana", replace=True)
    assert [g.identifier for g in sdk.groups.of_user("ana")] == ["emea"]
    sdk.groups.remove_user("emea", "ana")
    assert sdk.groups.of_user("ana") == []

    sdk.groups.delete("pt")
    with pytest.raises(NotFound):
        sdk.groups.get("pt")


def test_profiles_and_entitlements(sdk):
    sdk.users.upsert(UserData(identifier="ana"))
    profile, created = sdk.profiles.upsert(UserProfileData(identifier="tech", name="Technician"))
    assert created and profile.name == "Technician"
    sdk.profiles.upsert({"identifier": "lead", "name": "Lead"})
    assert {p.identifier for p in sdk.profiles.get_many(["tech", "lead", "nope"])} == {"tech", "lead"}
    sdk.profiles.assign("tech", "ana")
    sdk.profiles.assign("lead", "ana")
    assert {p.identifier for p in sdk.profiles.of_user("ana")} == {"tech", "lead"}
    sdk.profiles.unassign("tech", "ana")
    assert [p.identifier for p in sdk.profiles.of_user("ana")] == ["lead"]

    workspace, _ = sdk.admin.workspaces.upsert({"identifier": "ws", "name": "Workspace"})
    assert sdk.admin.workspaces.get("ws").name == workspace.name == "Workspace"
    assert [w.identifier for w in sdk.admin.workspaces.list()] == ["ws"]
    grant = ExternalEntitlement(
        entity_identifier="ws", entity_type=EntityType.WORKSPACE, user_identifier="ana", user_role="MANAGER"
    )
    sdk.entitlements.add(grant)
    assert sdk.entitlements.of_user("ana") == [grant]
    sdk.entitlements.remove(grant)
    assert sdk.entitlements.of_user("ana") == []
