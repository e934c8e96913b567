"""Discovery: ServiceProviderConfig, ResourceTypes and Schemas describe exactly what is served."""

from __future__ import annotations

from tests.scim.conftest import ENTERPRISE_URN, GROUP_URN, SCIM, USER_URN, assert_error


def test_service_provider_config(client, scim):
    response = client.get("/scim/v2/ServiceProviderConfig", headers=scim)
    assert response.status_code == 200 and response.headers["content-type"].startswith(SCIM)
    config = response.json()
    assert config["patch"] == {"supported": True}
    assert config["filter"] == {"supported": True, "maxResults": 1000}
    assert config["etag"] == {"supported": True}
    assert config["bulk"]["supported"] is False and config["changePassword"] == {"supported": False}
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types(client, scim):
    listed = client.get("/scim/v2/ResourceTypes", headers=scim).json()
    assert {t["id"]: t["schema"] for t in listed["Resources"]} == {"User": USER_URN, "Group": GROUP_URN}
    user = client.get("/scim/v2/ResourceTypes/User", headers=scim).json()
    assert user["endpoint"] == "/Users"
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE_URN, "required": False}]
    assert_error(client.get("/scim/v2/ResourceTypes/Nothing", headers=scim), 404)


def test_schemas(client, scim):
    listed = client.get("/scim/v2/Schemas", headers=scim).json()
    assert [s["id"] for s in listed["Resources"]] == [USER_URN, ENTERPRISE_URN, GROUP_URN]
    user = client.get(f"/scim/v2/Schemas/{USER_URN}", headers=scim).json()
    names = {a["name"] for a in user["attributes"]}
    assert {"userName", "name", "emails", "active", "password", "groups"} <= names
    assert user["meta"]["location"].endswith(f"/scim/v2/Schemas/{USER_URN}")
    assert_error(client.get("/scim/v2/Schemas/urn:nothing", headers=scim), 404)
