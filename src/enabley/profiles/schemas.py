from __future__ import annotations

from pydantic import ConfigDict, Field

from enabley.schemas import (
    ApiModel,
    CreatedAt,
    ExternalIdentifier,
    Identifier,
    ModifiedAt,
    RequiredName,
)

MAX_LOOKUP_IDENTIFIERS = 1000


class UserProfileData(ApiModel):
    """User Profile data for update"""

    identifier: Identifier = Field(
        description="The unique id of the model entity - defined by an external provider"
    )
    name: RequiredName = Field(description="User Profile name")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"identifier": "c7b1e0d2-3f4a-4b5c-8d6e-9f0a1b2c3d4e", "name": "Técnico de campo"}
        }
    )


class UserProfileInfo(ApiModel):
    """User Profile info"""

    created: CreatedAt = Field(description="User Profile creation date")
    identifier: ExternalIdentifier = Field(
        description="The unique id of the model entity - defined by an external provider"
    )
    modified: ModifiedAt = Field(description="User Profile modification date")
    name: str = Field(description="User Profile name")
