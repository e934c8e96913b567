"""Attribute projection (RFC 7644 §3.4.2.5): attributes, excludedAttributes and "returned"."""

from __future__ import annotations

from typing import Any

import pytest

from enabley.scim.projection import parse_attribute_list, project
from enabley.scim.schema import (
    ENTERPRISE_URN,
    GROUP_RESOURCE,
    GROUP_SCHEMA_URN,
    USER_RESOURCE,
    USER_SCHEMA_URN,
)


def user() -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA_URN, ENTERPRISE_URN],
        "id": "u1",
        "externalId": "e1",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs",
        "password": "never shown",
        "active": True,
        "emails": [
            {"value": "b@x.org", "type": "work", "primary": True},
            {"value": "b@y.org", "type": "home"},
        ],
        "groups": [{"value": "g1", "$ref": "https://x/Groups/g1", "display": "Sales"}],
        "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z", "version": 'W/"1"'},
        ENTERPRISE_URN: {"department": "R&D", "manager": {"value": "m1", "displayName": "Boss"}},
    }


def shown(attributes: str | None = None, excluded: str | None = None) -> dict[str, Any]:
    return project(user(), USER_RESOURCE, parse_attribute_list(attributes), parse_attribute_list(excluded))


def test_parse_attribute_list() -> None:
    assert parse_attribute_list(None) is None
    assert parse_attribute_list("") is None
    assert parse_attribute_list(" , ") is None
    assert parse_attribute_list("userName, name.givenName ,emails") == [
        "userName",
        "name.givenName",
        "emails",
    ]


def test_default_drops_only_what_is_never_returned() -> None:
    expected = user()
    del expected["password"]
    assert shown() == expected


def test_attributes_replace_the_default_set_keeping_what_is_always_returned() -> None:
    assert shown("userName") == {
        "schemas": [USER_SCHEMA_URN, ENTERPRISE_URN],
        "id": "u1",
        "userName": "bjensen",
        "meta": {"resourceType": "User"},
    }


def test_names_are_case_insensitive_and_dotted() -> None:
    result = shown("USERNAME,Name.GivenName,emails.value")
    assert result["userName"] == "bjensen"
    assert result["name"] == {"givenName": "Barbara"}
    assert result["emails"] == [{"value": "b@x.org"}, {"value": "b@y.org"}]
    assert "displayName" not in result


def test_a_whole_complex_attribute_or_meta() -> None:
    result = shown("name,meta")
    assert result["name"] == {"givenName": "Barbara", "familyName": "Jensen"}
    assert result["meta"] == user()["meta"]


def test_urn_prefixed_names_and_whole_extensions() -> None:
    assert shown(f"{ENTERPRISE_URN}:department")[ENTERPRISE_URN] == {"department": "R&D"}
    assert shown(f"{ENTERPRISE_URN}:manager.value")[ENTERPRISE_URN] == {"manager": {"value": "m1"}}
    assert shown("department")[ENTERPRISE_URN] == {"department": "R&D"}
    assert shown(ENTERPRISE_URN)[ENTERPRISE_URN] == user()[ENTERPRISE_URN]
    assert ENTERPRISE_URN not in shown("userName")
    assert shown(f"{USER_SCHEMA_URN}:userName")["userName"] == "bjensen"


def test_password_is_never_returned_even_when_asked() -> None:
    assert "password" not in shown("password,userName")


def test_excluded_attributes_take_from_the_default_set() -> None:
    result = shown(excluded="emails,name.familyName,Meta")
    assert "emails" not in result
    assert result["name"] == {"givenName": "Barbara"}
    assert result["meta"] == {"resourceType": "User"}
    assert result["displayName"] == "Babs"


def test_excluded_attributes_never_remove_what_is_always_returned() -> None:
    result = shown(excluded="id,schemas,userName")
    assert result["id"] == "u1"
    assert result["schemas"] == [USER_SCHEMA_URN, ENTERPRISE_URN]
    assert "userName" not in result


def test_excluding_an_extension() -> None:
    assert ENTERPRISE_URN not in shown(excluded=ENTERPRISE_URN)
    assert shown(excluded=f"{ENTERPRISE_URN}:manager")[ENTERPRISE_URN] == {"department": "R&D"}


def test_excluded_members_of_a_group() -> None:
    group = {
        "schemas": [GROUP_SCHEMA_URN],
        "id": "g1",
        "displayName": "Sales",
        "members": [{"value": "u1", "display": "Babs"}],
        "meta": {"resourceType": "Group"},
    }
    assert project(group, GROUP_RESOURCE, None, ["members"]) == {
        "schemas": [GROUP_SCHEMA_URN],
        "id": "g1",
        "displayName": "Sales",
        "meta": {"resourceType": "Group"},
    }


@pytest.mark.parametrize("names", ["nickName", "name.middleName", 'emails[type eq "work"]', "urn:x:y:z"])
def test_unknown_names_select_nothing(names: str) -> None:
    assert shown(names) == {
        "schemas": [USER_SCHEMA_URN, ENTERPRISE_URN],
        "id": "u1",
        "meta": {"resourceType": "User"},
    }
    assert shown(excluded=names) == shown()


def test_keys_the_schema_does_not_know_are_not_shown() -> None:
    resource = {**user(), "internal": 1}
    assert "internal" not in project(resource, USER_RESOURCE, None, None)


def test_the_resource_is_not_modified() -> None:
    resource = user()
    project(resource, USER_RESOURCE, ["userName"], None)
    assert resource == user()
