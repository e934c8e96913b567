from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints

from enabley.models.lengths import TEXT_LENGTH
from enabley.schemas import (
    ApiModel,
    CreatedAt,
    ExternalIdentifier,
    Identifier,
    ModifiedAt,
    RequiredName,
)


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# An empty string in an optional reference means "none", as integrations commonly send it.
OptionalRef = Annotated[
    Annotated[str, StringConstraints(min_length=1, max_length=TEXT_LENGTH)] | None,
    BeforeValidator(_blank_to_none),
]

MAX_HIERARCHY_TYPES = 100


class GroupData(ApiModel):
    """Group data for update. Fields left out of an update keep their value; an explicit null clears."""

    identifier: Identifier = Field(
        description="The unique id of the model entity - defined by an external provider"
    )
    name: RequiredName = Field(description="Group name")
    parent_identifier: OptionalRef = Field(
        None,
        description="parent identifier, defined by an external provider. The group with parentIdentifier "
        "must exist",
    )
    sub_account_name: OptionalRef = Field(None, description="Sub-account name")
    type: OptionalRef = Field(None, description="Group type according to group hierarchy")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "identifier": "8d3c1f52-0b7e-4f7c-9a61-2c4e5b6d7f80",
                "name": "São Paulo",
                "parentIdentifier": "region-latam",
                "subAccountName": "EU",
                "type": "City",
            }
        }
    )


class GroupInfo(ApiModel):
    """Group info"""

    created: CreatedAt = Field(description="Group creation date")
    identifier: ExternalIdentifier = Field(
        description="The unique id of the model entity - defined by an external provider"
    )
    modified: ModifiedAt = Field(description="Group modification date. i.e 2017-12-13T13:14:28.317Z")
    name: str = Field(description="Group name")
    parent_identifier: str | None = Field(description="parent identifier, defined by an external provider")
    sub_account_name: str | None = Field(description="Sub-Account to which the group belongs")
    type: str | None = Field(description="Group type according to group hierarchy")
