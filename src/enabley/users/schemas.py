from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from enabley.models.lengths import EMAIL_LENGTH, TEXT_LENGTH
from enabley.pagination import PageQuery
from enabley.schemas import ApiModel, Identifier, Name, SubAccountFilter, Timestamp, UserRole


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# email-validator's own rule for a plain local part (RFC 5322 dot-atom of ASCII atext).
_PLAIN_LOCAL = re.compile(r"[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]+(?:\.[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]+)*\Z")
_MAX_EMAIL = 254


@lru_cache(maxsize=4096)
def _domain_valid(domain: str) -> bool:
    try:
        validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _surely_valid(value: str) -> bool:
    """A shortcut for the common address (bulk uploads check 100,000s): a plain ASCII local part
    at a domain already found valid. The library checks the local part and the domain apart, then
    the whole length; "xn--" domains are left to it, their normalised form has another length."""
    local, at, domain = value.partition("@")
    return (
        bool(at)
        and len(value) <= _MAX_EMAIL
        and value.isascii()
        and "xn--" not in domain.lower()
        and _PLAIN_LOCAL.match(local) is not None
        and _domain_valid(domain)
    )


def _check_email(value: str | None) -> str | None:
    if value is None:
        return None
    if not _surely_valid(value):
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"not a valid email address ({exc})") from None
    return value.strip()


# The length limit sits on the string itself: on the optional it would also meet the None a blank
# value turns into, and fail as a server error.
Email = Annotated[
    Annotated[str, Field(max_length=EMAIL_LENGTH)] | None,
    BeforeValidator(_blank_to_none),
    AfterValidator(_check_email),
]
Username = Annotated[Annotated[str, Field(max_length=TEXT_LENGTH)] | None, BeforeValidator(_blank_to_none)]

MAX_CUSTOM_ATTRIBUTES = 100


class UserData(ApiModel):
    """User data for create or update. Fields left out of an update keep their value."""

    identifier: Identifier = Field(
        description="The unique id of the model entity - defined by an external provider"
    )
    address: Annotated[str | None, Field(max_length=2000, description="User address")] = None
    custom_attributes: dict[str, Any] | None = Field(
        None,
        description="User attributes. These custom attributes are exposed to external BI systems for data "
        "analysis purposes (e.g. age, sex, geography, employee role in company, academic degree etc.)",
    )
    email: Email = Field(None, description="User email")
    first_name: Name | None = Field(None, description="User first name")
    is_active: bool = Field(
        True, description='User status. Possible values: "true" or "false". Default: true'
    )
    last_name: Name | None = Field(None, description="User last name")
    password: Annotated[str | None, Field(max_length=1024, description="User password")] = None
    phone: Name | None = Field(None, description="User phone number")
    possible_roles: list[UserRole] | None = Field(None, max_length=20, description="User possible roles")
    sub_account_name: Name | None = Field(None, description="Sub-account name")
    username: Username = Field(None, description="Username")

    @field_validator("custom_attributes")
    @classmethod
    def _bounded_attributes(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(value) > MAX_CUSTOM_ATTRIBUTES:
            raise ValueError(f"at most {MAX_CUSTOM_ATTRIBUTES} custom attributes")
        return value

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "identifier": "2f6a0f4e-6a55-4c3b-9d43-7f3a0c0e1b2a",
                "email": "ana.souza@example.com",
                "firstName": "Ana",
                "lastName": "Souza",
                "username": "30518472961",
                "phone": "+55 11 5555 0100",
                "address": "Av. Paulista 1000, São Paulo",
                "isActive": True,
                "possibleRoles": ["LEARNER"],
                "subAccountName": "Brazil",
                "customAttributes": {"department": "Sales"},
            }
        }
    )


class UserInfo(ApiModel):
    """User info of existing user"""

    address: str | None = Field(description="User address")
    created: Timestamp = Field(description="User creation date")
    custom_attributes: dict[str, Any] | None = Field(description="User attributes")
    email: str | None = Field(description="User email")
    first_name: str | None = Field(description="User first name")
    identifier: str = Field(description="The unique id of the model entity - defined by an external provider")
    is_active: bool = Field(description="User status")
    last_name: str | None = Field(description="User last name")
    modified: Timestamp = Field(description="User modification date")
    phone: str | None = Field(description="User phone number")
    possible_roles: list[UserRole] = Field(description="User possible roles")
    user_sub_account_names: list[str] = Field(description="Sub-account name(s) to which the user belongs")
    username: str | None = Field(description="Username")


class UserIdentity(ApiModel):
    """User identity data"""

    current_user_identifier: Identifier = Field(description="Existing user identifier")
    new_user_identifier: Identifier = Field(description="New user identifier to assign")


class Permission(StrEnum):
    INSTRUCTOR_CREATE_COURSE_INSTANCE = "INSTRUCTOR_CREATE_COURSE_INSTANCE"
    INSTRUCTOR_CREATE_COURSE = "INSTRUCTOR_CREATE_COURSE"


class ExternalPermission(ApiModel):
    """The permissions of an instructor; setting them replaces the previous set."""

    permissions: list[Permission] = Field(max_length=10)


def _substring(alias: str, description: str) -> Any:
    return Field(None, alias=alias, max_length=TEXT_LENGTH, description=description)


class UserFilters(BaseModel):
    """The filters of `GET /api/v2/users` and `GET /api/v3/users`, as their query parameters."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    email_substring: str | None = _substring("emailSubstring", "Email substring")
    first_name_substring: str | None = _substring("firstNameSubstring", "First name substring")
    identifier: str | None = Field(None, max_length=TEXT_LENGTH, description="The unique id of user")
    last_name_substring: str | None = _substring("lastNameSubstring", "Last name substring")
    sub_account_name: SubAccountFilter = None
    username_substring: str | None = _substring("usernameSubstring", "Username substring")

    def narrows_by_text(self) -> bool:
        """Whether a text or identifier filter narrows the users (the sub-account alone doesn't)."""
        given = (self.identifier, self.email_substring, self.first_name_substring)
        return any((*given, self.last_name_substring, self.username_substring))


class UserSearch(UserFilters):
    """`GET /api/v2/users`: the filters and an offset page."""

    limit: int = Field(50, ge=1, le=200, description="Page size. Max:200 items")
    start: int = Field(0, ge=0, le=10_000_000, description="Start index")


class UserQuery(UserFilters, PageQuery):
    """`GET /api/v3/users`: the filters and a keyset page."""
