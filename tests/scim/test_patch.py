"""SCIM PATCH (RFC 7644 §3.5.2) on SCIM JSON, with the requests Entra ID and Okta actually send."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enabley.scim.patch import PatchError, apply_patch
from enabley.scim.schema import (
    ENTERPRISE_URN,
    GROUP_RESOURCE,
    GROUP_SCHEMA_URN,
    USER_RESOURCE,
    USER_SCHEMA_URN,
)

USER_ID = "2819c223-7f76-453a-919d-413861904646"


def user() -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA_URN],
        "id": USER_ID,
        "externalId": "bjensen",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": True,
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
        "groups": [{"value": "g1", "display": "Sales"}],
        "meta": {"resourceType": "User", "version": 'W/"1"'},
    }


def group() -> dict[str, Any]:
    return {
        "schemas": [GROUP_SCHEMA_URN],
        "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
        "displayName": "Sales",
        "members": [{"value": "u1", "display": "one"}, {"value": "u2", "display": "two"}],
        "meta": {"resourceType": "Group"},
    }


def patch_user(*operations: dict[str, Any], resource: dict[str, Any] | None = None) -> dict[str, Any]:
    return apply_patch(resource or user(), list(operations), USER_RESOURCE)


def patch_group(body: str) -> dict[str, Any]:
    """A PatchOp request body as the identity provider sends it, applied to the group."""
    request = json.loads(body)
    assert request["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
    return apply_patch(group(), request["Operations"], GROUP_RESOURCE)


def members(resource: dict[str, Any]) -> list[str]:
    return [m["value"] for m in resource.get("members", [])]


def error(scim_type: str, message: str, *operations: Any, resource: dict[str, Any] | None = None) -> None:
    with pytest.raises(PatchError) as caught:
        apply_patch(resource or user(), list(operations), USER_RESOURCE)
    assert caught.value.scim_type == scim_type
    assert message in str(caught.value)


# --- RFC 7644 §3.5.2.1 add --------------------------------------------------------------------


def test_add_sets_a_missing_attribute_and_replaces_a_single_value() -> None:
    patched = patch_user(
        {"op": "add", "path": "title", "value": "Tour Guide"},
        {"op": "add", "path": "userName", "value": "b@x"},
    )
    assert (patched["title"], patched["userName"]) == ("Tour Guide", "b@x")


def test_add_merges_into_a_complex_attribute() -> None:
    patched = patch_user({"op": "add", "path": "name", "value": {"formatted": "Ms. Barbara J Jensen"}})
    assert patched["name"] == {
        "givenName": "Barbara",
        "familyName": "Jensen",
        "formatted": "Ms. Barbara J Jensen",
    }


def test_add_appends_to_a_multi_valued_attribute_and_keeps_one_primary() -> None:
    patched = patch_user(
        {
            "op": "add",
            "path": "emails",
            "value": [{"value": "babs@jensen.org", "type": "home", "primary": True}],
        }
    )
    assert patched["emails"] == [
        {"value": "bjensen@example.com", "type": "work", "primary": False},
        {"value": "babs@jensen.org", "type": "home", "primary": True},
    ]


def test_add_of_a_held_value_updates_it_instead_of_repeating_it() -> None:
    patched = patch_user(
        {"op": "add", "path": "emails", "value": [{"value": "BJENSEN@example.com", "type": "home"}]}
    )
    assert patched["emails"] == [{"value": "BJENSEN@example.com", "type": "home", "primary": True}]


def test_add_without_path_takes_an_object_of_attributes() -> None:
    patched = patch_user(
        {"op": "add", "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}], "title": "Boss"}}
    )
    assert [e["value"] for e in patched["emails"]] == ["bjensen@example.com", "babs@jensen.org"]
    assert patched["title"] == "Boss"


def test_add_without_value_is_invalid() -> None:
    error("invalidValue", "operation 1: add needs a 'value'", {"op": "add", "path": "title"})
    error("invalidValue", "add needs a 'value'", {"op": "add", "path": "title", "value": None})


# --- RFC 7644 §3.5.2.3 replace --------------------------------------------------------------


def test_replace_of_a_multi_valued_attribute_replaces_it() -> None:
    patched = patch_user(
        {"op": "replace", "path": "emails", "value": [{"value": "new@x.org", "type": "home"}]}
    )
    assert patched["emails"] == [{"value": "new@x.org", "type": "home"}]


def test_replace_of_a_complex_attribute_keeps_unnamed_sub_attributes() -> None:
    patched = patch_user({"op": "replace", "path": "name", "value": {"givenName": "Babs"}})
    assert patched["name"] == {"givenName": "Babs", "familyName": "Jensen"}


def test_replace_through_a_filter_replaces_the_matching_values() -> None:
    resource = user()
    resource["emails"].append({"value": "babs@jensen.org", "type": "home"})
    patched = patch_user(
        {"op": "replace", "path": 'emails[type eq "home"]', "value": {"value": "b@home.org", "type": "home"}},
        resource=resource,
    )
    assert patched["emails"][1] == {"value": "b@home.org", "type": "home"}
    assert patched["emails"][0] == resource["emails"][0]


def test_replace_through_a_filter_with_no_match_and_no_equality_is_no_target() -> None:
    error(
        "noTarget",
        "no value of 'emails' matches the path's filter",
        {"op": "replace", "path": 'emails[value co "@nowhere"].type', "value": "home"},
    )


def test_replace_with_null_unassigns() -> None:
    assert "title" not in patch_user(
        {"op": "replace", "path": "title", "value": None}, resource={**user(), "title": "x"}
    )


def test_replace_with_null_through_a_filter_removes() -> None:
    patched = patch_user({"op": "replace", "path": 'emails[type eq "work"].value', "value": None})
    assert "emails" not in patched
    cleared = patch_user({"op": "replace", "path": "name.givenName", "value": None})
    assert cleared["name"] == {"familyName": "Jensen"}


def test_sub_attribute_paths() -> None:
    patched = patch_user(
        {"op": "replace", "path": "name.givenName", "value": "Babs"},
        {"op": "add", "path": "name.formatted", "value": "Babs Jensen"},
        {"op": "remove", "path": "name.familyName"},
    )
    assert patched["name"] == {"givenName": "Babs", "formatted": "Babs Jensen"}


def test_names_match_in_any_case_and_are_written_as_the_schema_spells_them() -> None:
    resource = user()
    resource["TITLE"] = "old"
    patched = patch_user(
        {"op": "replace", "path": "Title", "value": "new"},
        {"op": "add", "path": "NAME.GIVENNAME", "value": "B"},
        resource=resource,
    )
    assert patched["title"] == "new"
    assert "TITLE" not in patched
    assert patched["name"]["givenName"] == "B"


# --- RFC 7644 §3.5.2.2 remove ---------------------------------------------------------------


def test_remove_without_path_is_no_target() -> None:
    error("noTarget", "remove needs a 'path'", {"op": "remove"})
    error("noTarget", "remove needs a 'path'", {"op": "remove", "value": {"title": None}})


def test_remove_of_an_attribute_unassigns_it() -> None:
    patched = patch_user(
        {"op": "remove", "path": "emails"},
        {"op": "remove", "path": "name"},
        {"op": "remove", "path": "title"},
    )
    assert not {"emails", "name", "title"} & set(patched)


def test_remove_through_a_filter() -> None:
    resource = user()
    resource["emails"].append({"value": "babs@jensen.org", "type": "home"})
    patched = patch_user({"op": "remove", "path": 'emails[type eq "work"]'}, resource=resource)
    assert patched["emails"] == [{"value": "babs@jensen.org", "type": "home"}]
    again = patch_user({"op": "remove", "path": 'emails[type eq "other"]'}, resource=patched)
    assert again["emails"] == patched["emails"]


def test_removing_the_last_value_unassigns_the_attribute() -> None:
    patched = patch_user({"op": "remove", "path": 'emails[value eq "bjensen@example.com"]'})
    assert "emails" not in patched


def test_remove_of_a_filtered_sub_attribute_drops_a_value_left_with_only_qualifiers() -> None:
    resource = user()
    resource["addresses"] = [
        {"formatted": "1 Main St", "type": "work"},
        {"formatted": "2 Elm St", "type": "home"},
    ]
    patched = patch_user(
        {"op": "remove", "path": 'emails[type eq "work"].value'},
        {"op": "remove", "path": 'addresses[type eq "home"].formatted'},
        resource=resource,
    )
    assert "emails" not in patched
    assert patched["addresses"] == [{"formatted": "1 Main St", "type": "work"}]


def test_remove_of_a_required_attribute_is_refused() -> None:
    error("invalidValue", "'userName' is required", {"op": "remove", "path": "userName"})
    error("invalidValue", "'userName' is required", {"op": "replace", "path": "userName", "value": ""})
    with pytest.raises(PatchError) as caught:
        apply_patch(group(), [{"op": "remove", "path": "displayName"}], GROUP_RESOURCE)
    assert caught.value.scim_type == "invalidValue"


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "scim_type", "message"),
    [
        ({"op": "replace", "path": "id", "value": "other"}, "mutability", "'id' is read-only"),
        ({"op": "remove", "path": "meta"}, "mutability", "'meta' is read-only"),
        ({"op": "add", "path": "groups", "value": [{"value": "g2"}]}, "mutability", "'groups' is read-only"),
        (
            {"op": "replace", "path": "meta.version", "value": "x"},
            "mutability",
            "'meta.version' is read-only",
        ),
        ({"op": "replace", "value": {"id": "other"}}, "mutability", "'id' is read-only"),
        (
            {"op": "replace", "path": "nickName", "value": "Babs"},
            "invalidPath",
            "unknown attribute 'nickname'",
        ),
        (
            {"op": "replace", "path": "name.middleName", "value": "J"},
            "invalidPath",
            "unknown attribute 'name.middlename'",
        ),
        ({"op": "replace", "value": {"nickName": "Babs"}}, "invalidPath", "unknown attribute 'nickname'"),
        (
            {"op": "replace", "path": "name givenName", "value": "x"},
            "invalidPath",
            "expected '[' or the end of the path",
        ),
        (
            {"op": "replace", "path": 'title[value eq "x"]', "value": "x"},
            "invalidPath",
            "'title' is not multi-valued",
        ),
        ({"op": "remove", "path": 'emails[kind eq "x"]'}, "invalidFilter", "unknown attribute 'emails.kind'"),
        ({"op": "replace", "path": 7, "value": "x"}, "invalidPath", "'path' must be a string"),
        ({"op": "move", "path": "title"}, "invalidSyntax", "'op' must be add, replace or remove, not 'move'"),
        ({"path": "title"}, "invalidSyntax", "'op' must be add, replace or remove, not None"),
        ({"op": "replace", "path": "title"}, "invalidValue", "replace needs a 'value'"),
        (
            {"op": "replace", "path": "active", "value": "maybe"},
            "invalidValue",
            "'active' takes true or false, not 'maybe'",
        ),
        ({"op": "replace", "path": "title", "value": {"x": 1}}, "invalidValue", "'title' takes a string"),
        (
            {"op": "replace", "path": "name", "value": 5},
            "invalidValue",
            "'name' takes an object of its sub-attributes",
        ),
        ({"op": "replace", "value": "Babs"}, "invalidValue", "without a 'path', the value must be an object"),
    ],
)
def test_operation_errors(operation: dict[str, Any], scim_type: str, message: str) -> None:
    error(scim_type, f"operation 1: {message}", operation)


def test_operations_must_be_a_non_empty_list() -> None:
    for operations in ([], None, {"op": "add"}, ["add"]):
        with pytest.raises(PatchError) as caught:
            apply_patch(user(), operations, USER_RESOURCE)  # type: ignore[arg-type]
        assert caught.value.scim_type == "invalidSyntax"


def test_a_failing_operation_leaves_the_resource_untouched() -> None:
    resource = user()
    before = copy.deepcopy(resource)
    with pytest.raises(PatchError, match="operation 2: "):
        apply_patch(
            resource,
            [{"op": "replace", "path": "title", "value": "x"}, {"op": "remove", "path": "id"}],
            USER_RESOURCE,
        )
    assert resource == before


def test_immutable_member_value_cannot_change() -> None:
    with pytest.raises(PatchError) as caught:
        apply_patch(
            group(),
            [{"op": "replace", "path": 'members[value eq "u1"].value', "value": "u9"}],
            GROUP_RESOURCE,
        )
    assert caught.value.scim_type == "mutability"


# --- extensions ---------------------------------------------------------------------------------


def test_urn_prefixed_paths_write_into_the_extension_and_list_it() -> None:
    patched = patch_user(
        {"op": "add", "path": f"{ENTERPRISE_URN}:department", "value": "R&D"},
        {"op": "replace", "path": f"{ENTERPRISE_URN}:manager.value", "value": "m1"},
    )
    assert patched[ENTERPRISE_URN] == {"department": "R&D", "manager": {"value": "m1"}}
    assert patched["schemas"] == [USER_SCHEMA_URN, ENTERPRISE_URN]
    removed = patch_user(
        {"op": "remove", "path": f"{ENTERPRISE_URN}:department"},
        {"op": "remove", "path": f"{ENTERPRISE_URN}:manager"},
        resource=patched,
    )
    assert ENTERPRISE_URN not in removed
    assert removed["schemas"] == [USER_SCHEMA_URN]


def test_a_path_naming_the_whole_extension() -> None:
    patched = patch_user(
        {"op": "add", "path": ENTERPRISE_URN, "value": {"employeeNumber": "42", "costCenter": "4130"}}
    )
    assert patched[ENTERPRISE_URN] == {"employeeNumber": "42", "costCenter": "4130"}
    assert ENTERPRISE_URN not in patch_user({"op": "remove", "path": ENTERPRISE_URN}, resource=patched)


def test_without_path_keys_may_be_dotted_urn_prefixed_or_an_extension_object() -> None:
    patched = patch_user(
        {
            "op": "replace",
            "value": {
                "name.givenName": "Babs",
                f"{ENTERPRISE_URN}:department": "Sales",
                ENTERPRISE_URN: {
                    "schemas": [ENTERPRISE_URN],
                    "employeeNumber": 701984,
                    "manager": {"value": "m2", "displayName": "ignored"},
                },
                f"{USER_SCHEMA_URN}:title": "Rep",
            },
        }
    )
    assert patched["name"]["givenName"] == "Babs"
    assert patched["title"] == "Rep"
    assert patched[ENTERPRISE_URN] == {
        "department": "Sales",
        "employeeNumber": "701984",
        "manager": {"value": "m2"},
    }


# --- Microsoft Entra ID -------------------------------------------------------------------------


def test_entra_capitalised_ops_and_string_booleans() -> None:
    body = json.loads(
        '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ['
        '{"op": "Replace", "path": "active", "value": "False"}]}'
    )
    assert patch_user(*body["Operations"])["active"] is False
    assert (
        patch_user(
            {"op": "Replace", "path": "active", "value": "True"}, resource={**user(), "active": False}
        )["active"]
        is True
    )
    assert patch_user({"op": "Replace", "path": "active", "value": [{"value": "False"}]})["active"] is False
    assert patch_user({"op": "replace", "value": {"active": "False"}})["active"] is False


def test_entra_several_kinds_of_operation_in_one_request() -> None:
    body = json.loads(
        """{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "Replace", "path": "emails[type eq \\"work\\"].value",
             "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": "title", "value": "Manager"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
             "value": "Sales"},
            {"op": "Remove", "path": "externalId"}
        ]}"""
    )
    patched = patch_user(*body["Operations"])
    assert patched["emails"] == [{"value": "updatedEmail@microsoft.com", "type": "work", "primary": True}]
    assert patched["name"]["familyName"] == "updatedFamilyName"
    assert patched["title"] == "Manager"
    assert patched[ENTERPRISE_URN]["department"] == "Sales"
    assert "externalId" not in patched


def test_entra_adds_through_a_filter_that_matches_nothing_yet() -> None:
    body = json.loads(
        """{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "Add", "path": "addresses[type eq \\"work\\"].formatted", "value": "Columbus"},
            {"op": "Add", "path": "phoneNumbers[type eq \\"mobile\\"].value", "value": "+1 555 0100"},
            {"op": "Add", "path": "emails[type eq \\"home\\"].value", "value": "babs@jensen.org"}
        ]}"""
    )
    patched = patch_user(*body["Operations"])
    assert patched["addresses"] == [{"type": "work", "formatted": "Columbus"}]
    assert patched["phoneNumbers"] == [{"type": "mobile", "value": "+1 555 0100"}]
    assert patched["emails"][1] == {"type": "home", "value": "babs@jensen.org"}


def test_entra_manager_as_a_bare_id_and_its_removal() -> None:
    patched = patch_user(
        {"op": "Add", "path": f"{ENTERPRISE_URN}:manager", "value": "26118915-6090-4610-87e4-49d8ca9f808d"}
    )
    assert patched[ENTERPRISE_URN]["manager"] == {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
    wrapped = patch_user({"op": "Replace", "path": f"{ENTERPRISE_URN}:manager", "value": [{"value": "m2"}]})
    assert wrapped[ENTERPRISE_URN]["manager"] == {"value": "m2"}
    assert ENTERPRISE_URN not in patch_user(
        {"op": "Remove", "path": f"{ENTERPRISE_URN}:manager"}, resource=patched
    )


def test_entra_group_members_add_and_remove() -> None:
    added = patch_group(
        """{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}]}"""
    )
    assert members(added) == ["u1", "u2", "f648f8d5ea4e4cd38e9c"]
    removed = patch_group(
        """{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u1"}]}]}"""
    )
    assert members(removed) == ["u2"]


def test_entra_group_rename() -> None:
    renamed = patch_group(
        """{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "Replace", "path": "displayName",
             "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]}"""
    )
    assert renamed["displayName"] == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"


# --- Okta ---------------------------------------------------------------------------------------


def test_okta_deactivation_without_path() -> None:
    body = json.loads(
        '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], '
        '"Operations": [{"op": "replace", "value": {"active": false}}]}'
    )
    patched = patch_user(*body["Operations"])
    assert patched["active"] is False
    assert {k: v for k, v in patched.items() if k != "active"} == {
        k: v for k, v in user().items() if k != "active"
    }


def test_okta_group_rename_repeats_the_id() -> None:
    renamed = patch_group(
        """{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace",
            "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2"}}]}"""
    )
    assert renamed["displayName"] == "Test SCIMv2"
    assert renamed["id"] == "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"


def test_okta_members_add_without_duplicates_and_remove_by_filter() -> None:
    added = patch_group(
        """{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members",
            "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"},
                      {"value": "u2", "display": "two"}]}]}"""
    )
    assert members(added) == ["u1", "u2", "23a35c27-23d3-4c03-b4c5-6443c09e7173"]
    removed = patch_group(
        """{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "remove", "path": "members[value eq \\"u2\\"]"}]}"""
    )
    assert members(removed) == ["u1"]


def test_okta_group_push_removes_then_adds_in_one_request() -> None:
    pushed = patch_group(
        """{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "remove", "path": "members",
             "value": [{"value": "u1", "display": "one"}, {"value": "u2"}]},
            {"op": "add", "path": "members",
             "value": [{"value": "u3", "display": "three"}, {"value": "u1"}]}]}"""
    )
    assert members(pushed) == ["u3", "u1"]


def test_values_with_nothing_the_schema_keeps_are_no_values() -> None:
    added = apply_patch(
        group(), [{"op": "add", "path": "members", "value": [{"display": "x"}, {}]}], GROUP_RESOURCE
    )
    assert members(added) == ["u1", "u2"]


def test_removing_every_member() -> None:
    assert "members" not in patch_group(
        '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], '
        '"Operations": [{"op": "remove", "path": "members"}]}'
    )


def test_apply_patch_returns_a_new_dict() -> None:
    resource = user()
    before = copy.deepcopy(resource)
    patched = patch_user({"op": "add", "path": "emails", "value": [{"value": "a@b.c"}]}, resource=resource)
    assert resource == before
    assert patched is not resource


# --- whatever a client sends is applied or refused with a SCIM error, never a crash --------------

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.sampled_from(["True", "u1"])),
    lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.dictionaries(
            st.sampled_from(["value", "type", "primary", "display", "givenName", "x"]), kids, max_size=3
        ),
    ),
    max_leaves=6,
)
PATHS = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "userName", "active", "name", "name.givenName", "emails", "emails.value",
            'emails[type eq "work"]',
            'emails[type eq "work"].value', 'emails[value co "x"].primary', "groups", "id", "meta.created",
            f"{ENTERPRISE_URN}:manager", f"{ENTERPRISE_URN}:manager.value", ENTERPRISE_URN, "members", "x[",
        ]
    ),
)  # fmt: skip
OPERATIONS = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "Replace", "remove", "move", 3])},
    optional={"path": PATHS, "value": JSON},
)


@settings(max_examples=150, deadline=None)
@given(st.lists(OPERATIONS, min_size=1, max_size=3))
def test_any_operations_apply_or_are_refused_with_a_scim_type(operations: list[dict[str, Any]]) -> None:
    try:
        patched = apply_patch(user(), operations, USER_RESOURCE)
    except PatchError as exc:
        assert exc.scim_type
    else:
        assert patched["userName"]
        assert patched["id"] == USER_ID
