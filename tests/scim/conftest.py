"""Fixtures of the SCIM tests: SCIM tokens, and helpers that speak SCIM over the test client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from enabley.scim import tokens

SCIM = "application/scim+json"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def scim_token(db: Session) -> Callable[..., dict[str, str]]:
    """``scim_token(account, sub_account=None, group_type=None)``: bearer headers of a new SCIM token."""

    def make(account: Any, sub_account: str | None = None, group_type: str | None = None) -> dict[str, str]:
        _, token = tokens.create_token(db, account.name, sub_account, group_type)
        db.flush()
        return {"Authorization": f"Bearer {token}", "Content-Type": SCIM}

    return make


@pytest.fixture
def scim(scim_token: Callable[..., dict[str, str]], account: Any) -> dict[str, str]:
    """Headers of a SCIM token of the whole ``account``."""
    return scim_token(account)


def user(user_name: str, **fields: Any) -> dict[str, Any]:
    """A SCIM User body as Entra ID or Okta would send it."""
    body: dict[str, Any] = {
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {"givenName": "Ana", "familyName": "Souza"},
        "emails": [{"value": f"{user_name.split('@')[0]}@example.com", "type": "work", "primary": True}],
        "active": True,
    }
    body.update(fields)
    return body


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_URN], "Operations": list(operations)}


def assert_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    """The response is a SCIM Error with this status (and scimType)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM)
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [ERROR_URN]
    assert body["status"] == str(status)
    assert body["detail"]
    if scim_type is not None:
        assert body["scimType"] == scim_type
    return body
