"""The organisation: tokens, users, groups, user profiles, entitlements and workspaces."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from enabley.client.models._base import DataModel, Timestamp, UserRole, WireModel


class TokenResponse(BaseModel):
    """An access token; ``expires_in`` is in milliseconds."""

    access_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105


class UserData(DataModel):
    """A user to create or update (``PUT /api/v2/users``). Fields left out of an update keep their value."""

    identifier: str
    address: str | None = None
    custom_attributes: dict[str, Any] | None = None
    email: str | None = None
    first_name: str | None = None
    is_active: bool | None = None
    last_name: str | None = None
    password: str | None = None
    phone: str | None = None
    possible_roles: list[UserRole] | None = None
    sub_account_name: str | None = None
    username: str | None = None


class UserInfo(WireModel):
    """A user as the server knows it."""

    address: str | None
    created: Timestamp
    custom_attributes: dict[str, Any] | None
    email: str | None
    first_name: str | None
    identifier: str
    is_active: bool
    last_name: str | None
    modified: Timestamp
    phone: str | None
    possible_roles: list[UserRole]
    user_sub_account_names: list[str]
    username: str | None


class UserIdentity(DataModel):
    current_user_identifier: str
    new_user_identifier: str


class Permission(StrEnum):
    INSTRUCTOR_CREATE_COURSE_INSTANCE = "INSTRUCTOR_CREATE_COURSE_INSTANCE"
    INSTRUCTOR_CREATE_COURSE = "INSTRUCTOR_CREATE_COURSE"


class ExternalPermission(WireModel):
    permissions: list[Permission]


class GroupData(DataModel):
    """A group to create or update (``PUT /api/v1/groups``); its parent must exist."""

    identifier: str
    name: str
    parent_identifier: str | None = None
    sub_account_name: str | None = None
    type: str | None = None


class GroupInfo(WireModel):
    created: Timestamp
    identifier: str
    modified: Timestamp
    name: str
    parent_identifier: str | None
    sub_account_name: str | None
    type: str | None


class UserProfileData(DataModel):
    identifier: str
    name: str


class UserProfileInfo(WireModel):
    created: Timestamp
    identifier: str
    modified: Timestamp
    name: str


class EntityType(StrEnum):
    COURSE = "COURSE"
    GROUP = "GROUP"
    WORKSPACE = "WORKSPACE"


class ExternalEntitlement(DataModel):
    """A user's role on a course, group or workspace (sent and received alike)."""

    model_config = ConfigDict(extra="ignore")

    entity_identifier: str
    entity_type: EntityType
    user_identifier: str
    user_role: UserRole


class WorkspaceData(DataModel):
    identifier: str
    name: str


class WorkspaceInfo(WireModel):
    identifier: str
    name: str
    created: Timestamp
    modified: Timestamp
