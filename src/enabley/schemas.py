"""Wire conventions shared by every domain: camelCase models, timestamps, identifiers, enums."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from enabley.models.lengths import TEXT_LENGTH


def format_timestamp(value: datetime) -> str:
    """UTC ``YYYY-MM-DDTHH:mm:ss.SSSZ``, as the spec writes every date."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]
"""An outgoing timestamp."""

# Fields of answers that map themselves from ORM rows (``Model.model_validate(row)``): the stored
# attribute's name is accepted beside the field's own.
ExternalIdentifier = Annotated[str, Field(validation_alias=AliasChoices("identifier", "external_id"))]
CreatedAt = Annotated[Timestamp, Field(validation_alias=AliasChoices("created", "created_at"))]
ModifiedAt = Annotated[Timestamp, Field(validation_alias=AliasChoices("modified", "modified_at"))]

_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_text(value: Any) -> Any:
    # Pydantic would also read a number, or a string of one, as seconds since 1970.
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATE_TIME.match(value)):
        return value
    raise ValueError("expected an ISO 8601 date and time with a zone, e.g. 2017-12-13T13:14:28.317Z")


def _utc_representable(value: datetime) -> datetime:
    # 0001-01-01T00:00:00+01:00 is valid ISO 8601 but falls before year 1 in UTC, where it is stored.
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date and time out of range in UTC") from None
    return value


TimestampIn = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text),
    AfterValidator(_utc_representable),
    PlainSerializer(format_timestamp, return_type=str),
]
"""An incoming timestamp: ISO 8601 with a zone, e.g. ``2017-12-13T13:14:28.317Z``."""

JsonBool = Annotated[bool, Strict()]
"""A boolean of a request body: JSON true or false, never 0, 1 or a string."""

JsonInt = Annotated[int, Strict()]
"""An integer of a request body: a JSON number without a fraction, never a string or a boolean."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_LENGTH)]
"""An integrator's external id: case-sensitive, unique per account and kind."""

Name = Annotated[str, StringConstraints(max_length=TEXT_LENGTH)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


RequiredName = Annotated[
    str, StringConstraints(min_length=1, max_length=TEXT_LENGTH), AfterValidator(_not_blank)
]
"""A display name that must be given: 1-255 characters, not only spaces, any script."""

PathIdentifier = Annotated[str, Path(min_length=1, max_length=TEXT_LENGTH)]


def path_identifier(alias: str, description: str) -> Any:
    return Path(alias=alias, min_length=1, max_length=TEXT_LENGTH, description=description)


SubAccountQuery = Annotated[
    str | None, Query(alias="subAccountName", max_length=TEXT_LENGTH, description="Sub-account name")
]
SubAccountFilter = Annotated[
    str | None, Field(alias="subAccountName", max_length=TEXT_LENGTH, description="Sub-account name")
]
"""The same, as a field of a route's query-parameter model."""


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
