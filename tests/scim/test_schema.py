"""The SCIM schemas served (RFC 7643 §7, §8.7): definitions, look-ups and discovery documents."""

from __future__ import annotations

import pytest
import scim2_models

from enabley.scim.schema import (
    ALL_SCHEMAS,
    ENTERPRISE_URN,
    ENTERPRISE_USER,
    GROUP,
    GROUP_RESOURCE,
    GROUP_SCHEMA_URN,
    USER,
    USER_RESOURCE,
    USER_SCHEMA_URN,
    Attribute,
    Schema,
)

BASE = "https://lms.example.test/scim/v2"


def names(schema: Schema) -> list[str]:
    return [a.name for a in schema.attributes]


def test_user_serves_exactly_what_is_mapped() -> None:
    assert names(USER) == [
        "userName", "name", "displayName", "title", "preferredLanguage", "locale", "timezone", "active",
        "password", "emails", "phoneNumbers", "addresses", "groups",
    ]  # fmt: skip
    assert names(ENTERPRISE_USER) == [
        "employeeNumber", "costCenter", "organization", "division", "department", "manager",
    ]  # fmt: skip
    assert names(GROUP) == ["displayName", "members"]
    assert [a.name for a in USER.attributes[1].sub_attributes] == ["formatted", "familyName", "givenName"]


def test_user_name_is_required_unique_and_case_insensitive() -> None:
    user_name = USER.find("USERNAME")
    assert user_name is not None
    assert (user_name.required, user_name.uniqueness, user_name.case_exact) == (True, "server", False)


def test_password_is_write_only_and_never_returned() -> None:
    password = USER.find("password")
    assert password is not None
    assert (password.mutability, password.returned) == ("writeOnly", "never")


def test_read_only_attributes() -> None:
    for dotted in ("id", "meta", "meta.created", "groups", "groups.value"):
        found = USER_RESOURCE.find(dotted)
        assert found is not None
        assert found.mutability == "readOnly", dotted
    identifier = USER_RESOURCE.find("id")
    assert identifier is not None
    assert (identifier.returned, identifier.case_exact) == ("always", True)


def test_find_is_case_insensitive_and_dotted() -> None:
    assert USER.find("name.GIVENNAME") == USER.attributes[1].sub_attributes[2]
    assert USER.find("name.middleName") is None
    assert USER.find("name.givenName.x") is None
    assert USER.find("nickName") is None


def test_resource_find_with_or_without_urn() -> None:
    department = ENTERPRISE_USER.find("department")
    assert department is not None
    assert USER_RESOURCE.find(f"{ENTERPRISE_URN}:department") is department
    assert USER_RESOURCE.find(f"{ENTERPRISE_URN.upper()}:DEPARTMENT") is department
    assert USER_RESOURCE.find("department") is department
    assert USER_RESOURCE.find(f"{ENTERPRISE_URN}:manager.value") is not None
    assert USER_RESOURCE.find(f"{USER_SCHEMA_URN}:userName") is USER.find("userName")
    assert USER_RESOURCE.find(f"{USER_SCHEMA_URN}:department") is None
    assert USER_RESOURCE.find(f"{GROUP_SCHEMA_URN}:displayName") is None
    assert USER_RESOURCE.find("urn:example:unknown:userName") is None
    assert GROUP_RESOURCE.find("department") is None


def test_locate_says_which_schema_holds_an_attribute() -> None:
    assert USER_RESOURCE.locate("userName") == (None, USER.find("userName"))
    assert USER_RESOURCE.locate("meta.lastModified") == (None, USER_RESOURCE.common[2].sub("lastModified"))
    assert USER_RESOURCE.locate("employeeNumber") == (ENTERPRISE_USER, ENTERPRISE_USER.find("employeeNumber"))
    assert USER_RESOURCE.locate("meta.nothing") is None


def test_common_attributes_are_in_no_schema_document() -> None:
    for schema in ALL_SCHEMAS:
        assert not {"id", "externalId", "meta"} & set(names(schema))
    for resource in (USER_RESOURCE, GROUP_RESOURCE):
        for name in ("id", "externalId", "meta.version"):
            assert resource.find(name) is not None


def test_attribute_definition_json() -> None:
    emails = USER.find("emails")
    assert emails is not None
    assert emails.to_scim() == {
        "name": "emails",
        "type": "complex",
        "multiValued": True,
        "description": "The user's email addresses.",
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
        "subAttributes": [
            {
                "name": "value", "type": "string", "multiValued": False, "description": "The email address.",
                "required": False, "caseExact": False, "mutability": "readWrite", "returned": "default",
                "uniqueness": "none",
            },
            {
                "name": "type", "type": "string", "multiValued": False, "description": "The address's kind.",
                "required": False, "caseExact": False, "mutability": "readWrite", "returned": "default",
                "uniqueness": "none", "canonicalValues": ["work", "home", "other"],
            },
            {
                "name": "primary", "type": "boolean", "multiValued": False,
                "description": "Whether this is the preferred email address; at most one is true.",
                "required": False, "caseExact": False, "mutability": "readWrite", "returned": "default",
                "uniqueness": "none",
            },
        ],
    }  # fmt: skip
    manager_ref = ENTERPRISE_USER.find("manager.$ref")
    assert manager_ref is not None
    assert manager_ref.to_scim()["referenceTypes"] == ["User"]


@pytest.mark.parametrize("schema", ALL_SCHEMAS, ids=lambda s: s.name)
def test_schema_documents_are_valid_scim(schema: Schema) -> None:
    document = schema.to_scim(f"{BASE}/Schemas/{schema.id}")
    assert document["meta"] == {"resourceType": "Schema", "location": f"{BASE}/Schemas/{schema.id}"}
    parsed = scim2_models.Schema.model_validate(document)
    assert parsed.id == schema.id
    assert [a.name for a in parsed.attributes or []] == names(schema)


def test_resource_type_documents() -> None:
    user = USER_RESOURCE.to_scim(f"{BASE}/ResourceTypes/User")
    parsed = scim2_models.ResourceType.model_validate(user)
    assert (parsed.id, parsed.endpoint, parsed.schema_) == ("User", "/Users", USER_SCHEMA_URN)
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE_URN, "required": False}]
    group = GROUP_RESOURCE.to_scim(f"{BASE}/ResourceTypes/Group")
    assert (group["endpoint"], group["schema"], group["schemaExtensions"]) == (
        "/Groups",
        GROUP_SCHEMA_URN,
        [],
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"type": "text"},
        {"type": "string", "mutability": "sometimes"},
        {"type": "string", "returned": "maybe"},
        {"type": "string", "uniqueness": "local"},
        {"type": "complex"},
        {"type": "string", "sub_attributes": (Attribute("x", "string"),)},
    ],
)
def test_a_malformed_definition_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="invalid SCIM attribute definition 'bad'"):
        Attribute("bad", **kwargs)  # type: ignore[arg-type]
