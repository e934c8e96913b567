"""Wire conventions shared by every domain: camelCase models, timestamps, identifiers, enums."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

MAX_IDENTIFIER = 255


def format_timestamp(value: datetime) -> str:
    """UTC ``YYYY-MM-DDTHH:mm:ss.SSSZ``, as the spec writes every date."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]
"""An outgoing timestamp."""

TimestampIn = Annotated[AwareDatetime, PlainSerializer(format_timestamp, return_type=str)]
"""An incoming timestamp: ISO 8601 with a zone, e.g. ``2017-12-13T13:14:28.317Z``."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=MAX_IDENTIFIER)]
"""An integrator's external id: case-sensitive, unique per account and kind."""

Name = Annotated[str, StringConstraints(max_length=255)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


RequiredName = Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(_not_blank)]
"""A display name that must be given: 1-255 characters, not only spaces, any script."""

PathIdentifier = Annotated[str, Path(min_length=1, max_length=MAX_IDENTIFIER)]


def path_identifier(alias: str, description: str) -> Any:
    return Path(alias=alias, min_length=1, max_length=MAX_IDENTIFIER, description=description)


SubAccountQuery = Annotated[
    str | None, Query(alias="subAccountName", max_length=255, description="Sub-account name")
]


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        from_attributes=True,
    )


class ErrorCode(StrEnum):
    INVALID_REQUEST = "invalid_request"
    INVALID_CLIENT = "invalid_client"
    NOT_FOUND = "not_found"
    ACCESS_DENIED = "access_denied"
    GENERAL_ERROR = "general_error"
    ITEM_EXISTS = "item_exists"
    ITEM_NOT_EXISTS = "item_not_exists"
    SERVICE_UNAVAILABLE = "service_unavailable"


class ErrorResponse(BaseModel):
    """ErrorResponse"""

    error: ErrorCode = Field(description="The error may have one of the following values")
    error_description: str = Field(description="Error description")

    model_config = ConfigDict(
        json_schema_extra={"example": {"error": "not_found", "error_description": "User 'u-1' not found"}}
    )


class UserRole(StrEnum):
    SITE_ADMIN = "SITE_ADMIN"
    LEARNER = "LEARNER"
    INSTRUCTOR = "INSTRUCTOR"
    EDITOR = "EDITOR"
    PREVIEW = "PREVIEW"
    MANAGER = "MANAGER"
    HR_MANAGER = "HR_MANAGER"
    SITE_TRAINING_MANAGER = "SITE_TRAINING_MANAGER"
    EVALUATOR = "EVALUATOR"


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


# The spec's documented error responses, shared by every route's OpenAPI entry.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Invalid input"),
    401: _error("Invalid JWT token"),
    500: _error("General error"),
    503: _error("Database unavailable"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("Not found")}
CONFLICT: dict[int | str, dict[str, Any]] = {409: _error("Conflict")}


OK_EMPTY: dict[int | str, dict[str, Any]] = {200: {"description": "OK (no response body)"}}
