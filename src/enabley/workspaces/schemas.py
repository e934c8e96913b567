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


class WorkspaceData(ApiModel):
    """Workspace data for create or update"""

    identifier: Identifier = Field(
        description="The unique id of the model entity - defined by an external provider"
    )
    name: RequiredName = Field(description="Workspace name")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "identifier": "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b",
                "name": "Atendimento ao cliente",
            }
        }
    )


class WorkspaceInfo(ApiModel):
    """Workspace info"""

    identifier: ExternalIdentifier = Field(
        description="The unique id of the model entity - defined by an external provider"
    )
    name: str = Field(description="Workspace name")
    created: CreatedAt = Field(description="Workspace creation date")
    modified: ModifiedAt = Field(description="Workspace modification date")
