from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status

from enabley.deps import CurrentTenant
from enabley.entitlements import service
from enabley.entitlements.schemas import ExternalEntitlement
from enabley.schemas import ERRORS, NOT_FOUND, OK_EMPTY, path_identifier

router = APIRouter(responses=ERRORS, prefix="/api", tags=["Users"])


@router.post(
    "/v2/users/entitlements",
    summary="Add user entity role",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def add_user_entity_role(body: ExternalEntitlement, tenant: CurrentTenant) -> Response:
    """Add user entity role to Course, Group, Workspace"""
    await tenant.write(service.add_entitlement, body)
    return Response(status_code=status.HTTP_200_OK)


@router.delete(
    "/v2/users/entitlements",
    summary="Remove user entity role",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def remove_user_entity_role(body: ExternalEntitlement, tenant: CurrentTenant) -> Response:
    """Remove user entity role from Course, Group, Workspace"""
    await tenant.write(service.remove_entitlement, body)
    return Response(status_code=status.HTTP_200_OK)


@router.get(
    "/v2/users/{identifier}/entitlements",
    summary="Get user entity roles",
    response_model=list[ExternalEntitlement],
    responses={**NOT_FOUND},
)
async def get_user_entity_roles(
    identifier: Annotated[str, path_identifier("identifier", "User identifier")], tenant: CurrentTenant
) -> list[ExternalEntitlement]:
    """The user's roles on courses, groups and workspaces (a read-back of *Add user entity role*)."""
    return await tenant.read(service.entitlements_of_user, identifier)
