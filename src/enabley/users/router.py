from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from enabley.deps import CurrentTenant, paged
from enabley.pagination import Page, Walk
from enabley.schemas import CONFLICT, ERRORS, NOT_FOUND, OK_EMPTY, SubAccountQuery, path_identifier
from enabley.security import hash_password
from enabley.users import service
from enabley.users.schemas import ExternalPermission, UserData, UserIdentity, UserInfo, UserQuery, UserSearch

router = APIRouter(responses=ERRORS, prefix="/api", tags=["Users"])

UserIdentifier = Annotated[str, path_identifier("identifier", "User identifier")]


@router.get("/v2/users", summary="Find users by filter", response_model=list[UserInfo])
async def find_users_by_filter(
    search: Annotated[UserSearch, Query()], tenant: CurrentTenant
) -> list[UserInfo]:
    """Find users by filter"""
    return await tenant.read(service.find_users, search, start=search.start, limit=search.limit)


@router.put(
    "/v2/users",
    summary="Create or update User",
    response_model=UserInfo,
    status_code=status.HTTP_200_OK,
    responses={
        200: {"description": "User was updated"},
        201: {"description": "User was created", "model": UserInfo},
        **CONFLICT,
    },
)
async def create_or_update_user(body: UserData, tenant: CurrentTenant, response: Response) -> UserInfo:
    """Create new user or update an existing user based on consumer identifier"""
    password_hash = await run_in_threadpool(hash_password, body.password) if body.password else None
    info, created = await tenant.write(service.put_user, body, password_hash)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return info


@router.put(
    "/v2/users/identityManagement",
    summary="Change the user identifier (user ID) for an existing user.",
    response_model=UserInfo,
    responses={**NOT_FOUND, **CONFLICT},
)
async def change_user_identifier(body: UserIdentity, tenant: CurrentTenant) -> UserInfo:
    """Change the user identifier (user ID) for an existing user. Memberships, progress and
    certificates follow the user."""
    return await tenant.write(
        service.change_identifier, body.current_user_identifier, body.new_user_identifier
    )


@router.get(
    "/v2/users/{identifier}",
    summary="Find user by identifier",
    response_model=UserInfo,
    responses={**NOT_FOUND},
)
async def find_user_by_identifier(
    identifier: UserIdentifier,
    tenant: CurrentTenant,
    sub_account_name: SubAccountQuery = None,
) -> UserInfo:
    """Find user by identifier"""
    return await tenant.lookup(service.get_user, identifier, sub_account_name)


@router.put(
    "/v2/users/{identifier}",
    summary="Update existing user status",
    response_model=UserInfo,
    responses={**NOT_FOUND},
)
async def update_existing_user_status(
    identifier: UserIdentifier,
    tenant: CurrentTenant,
    is_active: Annotated[
        bool,
        Query(alias="isActive", description='User status. Possible values: "true" or "false". Default: true'),
    ] = True,
) -> UserInfo:
    """Update existing user status"""
    return await tenant.write(service.set_status, identifier, is_active)


@router.delete(
    "/v2/users/{identifier}",
    summary="Delete user by identifier",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def delete_user_by_identifier(identifier: UserIdentifier, tenant: CurrentTenant) -> Response:
    """Delete user by identifier"""
    await tenant.write(service.delete_user, identifier)
    return Response(status_code=status.HTTP_200_OK)


@router.delete(
    "/v2/users/{identifier}/subAccountName/{subAccountName}",
    summary="Remove a user from a particular sub-account",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def remove_user_from_sub_account(
    identifier: UserIdentifier,
    sub_account_name: Annotated[str, path_identifier("subAccountName", "Sub-account name")],
    tenant: CurrentTenant,
) -> Response:
    """Removes a user from a particular sub-account"""
    await tenant.write(service.remove_from_sub_account, identifier, sub_account_name)
    return Response(status_code=status.HTTP_200_OK)


@router.put(
    "/v2/users/{userIdentifier}/permissions",
    summary="Set user permissions",
    response_model=ExternalPermission,
    responses={**NOT_FOUND},
)
async def set_user_permissions(
    user_identifier: Annotated[str, path_identifier("userIdentifier", "userIdentifier")],
    body: ExternalPermission,
    tenant: CurrentTenant,
) -> ExternalPermission:
    """Set user permissions for a user. The user role must be INSTRUCTOR. The permissions list will
    override any existing permissions the user might have."""
    permissions = await tenant.write(service.set_permissions, user_identifier, body.permissions)
    return ExternalPermission.model_validate({"permissions": permissions})


@router.get(
    "/v2/users/{userIdentifier}/permissions",
    summary="Get user permissions",
    response_model=ExternalPermission,
    responses={**NOT_FOUND},
)
async def get_user_permissions(
    user_identifier: Annotated[str, path_identifier("userIdentifier", "userIdentifier")],
    tenant: CurrentTenant,
) -> ExternalPermission:
    """The permissions set for a user (a read-back of *Set user permissions*)."""
    permissions = await tenant.read(service.get_permissions, user_identifier)
    return ExternalPermission.model_validate({"permissions": permissions})


@router.get(
    "/v3/users",
    summary="Find users by filter V3 New",
    response_model=Page[UserInfo],
    responses={**NOT_FOUND},
)
async def find_users_by_filter_v3(
    walk: Annotated[Walk[UserQuery], paged("v3/users", UserQuery)], tenant: CurrentTenant
) -> Response:
    """Find users by filter"""
    return Response(await service.find_users_page(tenant, walk), media_type="application/json")
