from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status

from enabley.deps import CurrentTenant
from enabley.schemas import ERRORS, NOT_FOUND, path_identifier
from enabley.workspaces import service
from enabley.workspaces.schemas import WorkspaceData, WorkspaceInfo

router = APIRouter(responses=ERRORS, prefix="/api/admin", tags=["Admin"])


@router.put(
    "/v1/workspaces",
    summary="Create or update Workspace",
    response_model=WorkspaceInfo,
    status_code=status.HTTP_200_OK,
    responses={
        200: {"description": "Workspace was updated"},
        201: {"description": "Workspace was created", "model": WorkspaceInfo},
    },
)
async def create_or_update_workspace(
    body: WorkspaceData, tenant: CurrentTenant, response: Response
) -> WorkspaceInfo:
    """Create a workspace or rename an existing one, based on its identifier"""
    info, created = await tenant.write(service.put_workspace, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return info


@router.get("/v1/workspaces", summary="Get Workspaces", response_model=list[WorkspaceInfo])
async def get_workspaces(tenant: CurrentTenant) -> list[WorkspaceInfo]:
    """The account's workspaces"""
    return await tenant.read(service.list_workspaces)


@router.get(
    "/v1/workspaces/{identifier}",
    summary="Find workspace",
    response_model=WorkspaceInfo,
    responses={**NOT_FOUND},
)
async def find_workspace(
    identifier: Annotated[str, path_identifier("identifier", "Workspace identifier")], tenant: CurrentTenant
) -> WorkspaceInfo:
    """Find workspace by identifier"""
    return await tenant.read(service.get_workspace, identifier)
