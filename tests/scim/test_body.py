"""POST and PUT bodies (RFC 7644 §3.3, §3.5.1) as the resources they ask for."""

from __future__ import annotations

import json

import pytest

from enabley.scim.body import prepare_resource
from enabley.scim.patch import PatchError
from enabley.scim.schema import (
    ENTERPRISE_URN,
    GROUP_RESOURCE,
    GROUP_SCHEMA_URN,
    USER_RESOURCE,
    USER_SCHEMA_URN,
)

ENTRA_CREATE = """{
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
    "active": true,
    "emails": [{
        "primary": true,
        "type": "work",
        "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}"""

OKTA_CREATE = """{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": true
}"""


def test_entra_create_keeps_what_is_served_and_ignores_the_rest() -> None:
    assert prepare_resource(json.loads(ENTRA_CREATE), USER_RESOURCE) == {
        "schemas": [USER_SCHEMA_URN],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": True,
        "emails": [
            {
                "primary": True,
                "type": "work",
                "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com",
            }
        ],
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
    }


def test_okta_create_keeps_the_password_and_drops_read_only_groups() -> None:
    prepared = prepare_resource(json.loads(OKTA_CREATE), USER_RESOURCE)
    assert prepared["password"] == "1mz050nq"
    assert "groups" not in prepared
    assert prepared["locale"] == "en-US"


def test_names_in_any_case_string_booleans_and_the_extension() -> None:
    body = {
        "USERNAME": "b",
        "Active": "False",
        "id": "ignored",
        "meta": {"version": "ignored"},
        "nickName": "ignored",
        ENTERPRISE_URN.lower(): {"Department": "R&D", "manager": "m1", "shoeSize": 44},
    }
    assert prepare_resource(body, USER_RESOURCE) == {
        "schemas": [USER_SCHEMA_URN, ENTERPRISE_URN],
        "userName": "b",
        "active": False,
        ENTERPRISE_URN: {"department": "R&D", "manager": {"value": "m1"}},
    }


def test_a_group_with_members() -> None:
    body = {
        "schemas": [GROUP_SCHEMA_URN],
        "displayName": "Sales",
        "members": [{"value": "u1", "display": "x"}],
    }
    assert prepare_resource(body, GROUP_RESOURCE) == {
        "schemas": [GROUP_SCHEMA_URN],
        "displayName": "Sales",
        "members": [{"value": "u1"}],
    }


@pytest.mark.parametrize(
    ("body", "scim_type", "message"),
    [
        ([], "invalidSyntax", "the body must be a JSON object"),
        ({"name": {"givenName": "x"}}, "invalidValue", "'userName' is required"),
        ({"userName": ""}, "invalidValue", "'userName' is required"),
        ({"userName": "b", "active": "yes"}, "invalidValue", "'active' takes true or false, not 'yes'"),
        ({"userName": "b", ENTERPRISE_URN: "R&D"}, "invalidValue", f"'{ENTERPRISE_URN}' takes an object"),
    ],
)
def test_errors(body: object, scim_type: str, message: str) -> None:
    with pytest.raises(PatchError) as caught:
        prepare_resource(body, USER_RESOURCE)
    assert caught.value.scim_type == scim_type
    assert str(caught.value).startswith(message)
