from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from enabley.schemas import ApiModel, Identifier, UserRole


class EntityType(StrEnum):
    COURSE = "COURSE"
    GROUP = "GROUP"
    WORKSPACE = "WORKSPACE"


class ExternalEntitlement(ApiModel):
    """A user's role on a course (channel), group or workspace."""

    entity_identifier: Identifier = Field(description="Identifier of the course, group or workspace")
    entity_type: EntityType = Field(description="Kind of the entity")
    user_identifier: Identifier = Field(description="Identifier of the user")
    user_role: UserRole = Field(description="The role the user has on the entity")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "entityIdentifier": "8d3c1f52-0b7e-4f7c-9a61-2c4e5b6d7f80",
                "entityType": "GROUP",
                "userIdentifier": "2f6a0f4e-6a55-4c3b-9d43-7f3a0c0e1b2a",
                "userRole": "MANAGER",
            }
        }
    )
