"""Wire conventions: camelCase JSON, ``YYYY-MM-DDTHH:mm:ss.SSSZ`` timestamps, typed enums."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, NamedTuple, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

T = TypeVar("T")


def format_timestamp(value: datetime) -> str:
    """UTC ``YYYY-MM-DDTHH:mm:ss.SSSZ``, as the API writes every date. Naive datetimes are refused."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: give a timezone, e.g. datetime.now(UTC)")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str, when_used="json")]
"""A timestamp the server sent; written back in the server's own format."""

TimestampIn = Annotated[AwareDatetime, PlainSerializer(format_timestamp, return_type=str, when_used="json")]
"""A timestamp to send: it must carry a timezone."""


class WireModel(BaseModel):
    """What the server answers. Fields unknown to this SDK are kept (``model_extra``), not refused,
    so a newer server does not break an older client."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
    )


class DataModel(BaseModel):
    """What the client sends. Unknown fields are refused here, before a request is made: a misspelt
    field would otherwise be dropped silently. Only the fields that were set are sent, so an update
    leaves the others as they are."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
    )

    def wire(self) -> dict[str, Any]:
        """The JSON body: the fields that were set, by their camelCase names."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class Page(WireModel, Generic[T]):
    """One page of a paged endpoint (the API's ``PaginationResponse``)."""

    items: list[T]
    page_size: int = 0
    current_page: int = 1
    total_pages: int = 1
    pagination_key: str | None = None


class Upserted(NamedTuple, Generic[T]):
    """The answer of a create-or-update call: the item, and whether it was created (201) or
    updated (200). Unpacks as ``item, created = ...``."""

    item: T
    created: bool


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
