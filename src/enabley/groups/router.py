from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from enabley.deps import CurrentTenant
from enabley.groups import service
from enabley.groups.schemas import GroupData, GroupInfo
from enabley.schemas import ERRORS, NOT_FOUND, OK_EMPTY, SubAccountQuery, path_identifier

router = APIRouter(responses=ERRORS, prefix="/api", tags=["Groups"])

GroupIdentifier = Annotated[str, path_identifier("groupIdentifier", "Group identifier")]
UserIdentifier = Annotated[str, path_identifier("userIdentifier", "User identifier")]
Identifier = Annotated[str, path_identifier("identifier", "Group identifier")]


@router.put(
    "/v1/groups",
    summary="Create or update Group",
    response_model=GroupInfo,
    status_code=status.HTTP_200_OK,
    responses={
        200: {"description": "Group was updated"},
        201: {"description": "Group was created", "model": GroupInfo},
    },
)
async def create_or_update_group(body: GroupData, tenant: CurrentTenant, response: Response) -> GroupInfo:
    """Operations that creates or update Group"""
    info, created = await tenant.write(service.put_group, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return info


@router.get("/v1/groups/hierarchy", summary="Get hierarchy", response_model=list[str])
async def get_hierarchy(tenant: CurrentTenant) -> list[str]:
    """Get account's group hierarchy"""
    return await tenant.read(service.get_hierarchy)


@router.get("/v1/groups/list", summary="Get Groups", response_model=list[GroupInfo])
async def get_groups(tenant: CurrentTenant, sub_account_name: SubAccountQuery = None) -> list[GroupInfo]:
    """Get groups by account or sub-account name"""
    return await tenant.read(service.list_groups, sub_account_name)


@router.post(
    "/v1/groups/{groupIdentifier}/users/{userIdentifier}",
    summary="Assign User to Group",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def assign_user_to_group(
    group_identifier: GroupIdentifier,
    user_identifier: UserIdentifier,
    tenant: CurrentTenant,
    replace: Annotated[bool, Query(description="Remove all current mapping of user to groups")] = False,
) -> Response:
    """Assign User to Group"""
    await tenant.write(service.assign_user, group_identifier, user_identifier, replace=replace)
    return Response(status_code=status.HTTP_200_OK)


@router.delete(
    "/v1/groups/{groupIdentifier}/users/{userIdentifier}",
    summary="Remove User from Group",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def remove_user_from_group(
    group_identifier: GroupIdentifier, user_identifier: UserIdentifier, tenant: CurrentTenant
) -> Response:
    """Remove User from Group"""
    await tenant.write(service.remove_user, group_identifier, user_identifier)
    return Response(status_code=status.HTTP_200_OK)


@router.get(
    "/v1/groups/{identifier}",
    summary="Find group",
    response_model=GroupInfo,
    responses={**NOT_FOUND},
)
async def find_group(
    identifier: Identifier, tenant: CurrentTenant, sub_account_name: SubAccountQuery = None
) -> GroupInfo:
    """Find group by identifier"""
    return await tenant.read(service.get_group, identifier, sub_account_name)


@router.delete(
    "/v1/groups/{identifier}",
    summary="deleteGroup",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def delete_group(identifier: Identifier, tenant: CurrentTenant) -> Response:
    """Delete a group that has no child groups, with its user memberships, channel assignments and
    GROUP entitlements. A group with child groups is refused (400)."""
    await tenant.write(service.delete_group, identifier)
    return Response(status_code=status.HTTP_200_OK)


@router.get(
    "/v1/users/{identifier}/groups",
    summary="Find user group(s) by user identifier",
    response_model=list[GroupInfo],
    responses={**NOT_FOUND},
)
async def find_user_groups_by_user_identifier(
    identifier: Annotated[str, path_identifier("identifier", "User identifier")],
    tenant: CurrentTenant,
    sub_account_name: SubAccountQuery = None,
) -> list[GroupInfo]:
    """Find user group(s) by user identifier"""
    return await tenant.read(service.groups_of_user, identifier, sub_account_name)
