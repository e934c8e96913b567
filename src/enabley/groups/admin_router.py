"""The admin API of groups: routes under /api/admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from enabley.deps import CurrentTenant
from enabley.groups import service
from enabley.groups.schemas import MAX_HIERARCHY_TYPES
from enabley.schemas import ERRORS, Name

router = APIRouter(responses=ERRORS, prefix="/api/admin", tags=["Admin"])


@router.put(
    "/v1/groups/hierarchy",
    summary="Set group hierarchy",
    response_model=list[str],
)
async def set_group_hierarchy(
    tenant: CurrentTenant,
    types: Annotated[
        list[Name],
        Body(
            max_length=MAX_HIERARCHY_TYPES,
            description="The account's group types, in order from the top of the tree down",
            examples=[["Region", "Country", "City"]],
        ),
    ],
) -> list[str]:
    """Replace the account's ordered group hierarchy (the group types). Groups that already have a
    type must keep a type of the new hierarchy; an empty array removes the hierarchy, and then any
    group type is accepted."""
    return await tenant.write(service.set_hierarchy, types)
