from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from enabley.deps import CurrentTenant
from enabley.profiles import service
from enabley.profiles.schemas import MAX_LOOKUP_IDENTIFIERS, UserProfileData, UserProfileInfo
from enabley.schemas import ERRORS, NOT_FOUND, Identifier, path_identifier

router = APIRouter(responses=ERRORS, prefix="/api", tags=["UserProfiles"])

ProfileIdentifier = Annotated[str, path_identifier("profileIdentifier", "Profile identifier")]
UserIdentifier = Annotated[str, path_identifier("userIdentifier", "User identifier")]


@router.post(
    "/v2/getUserProfiles",
    summary="Get profile details by id(s)",
    response_model=list[UserProfileInfo],
)
async def get_profile_details_by_ids(
    identifiers: Annotated[
        list[Identifier],
        Body(
            max_length=MAX_LOOKUP_IDENTIFIERS,
            description=f"User Profile identifiers (at most {MAX_LOOKUP_IDENTIFIERS})",
            examples=[["c7b1e0d2-3f4a-4b5c-8d6e-9f0a1b2c3d4e", "field-technician"]],
        ),
    ],
    tenant: CurrentTenant,
) -> list[UserProfileInfo]:
    """Get profile details by id(s). Identifiers of no profile are left out of the answer."""
    return await tenant.read(service.profiles_by_identifiers, identifiers)


@router.put(
    "/v2/userProfiles",
    summary="Create or update User Profile",
    response_model=UserProfileInfo,
    status_code=status.HTTP_200_OK,
    responses={
        200: {"description": "User Profile was updated"},
        201: {"description": "User Profile was created", "model": UserProfileInfo},
    },
)
async def create_or_update_user_profile(
    body: UserProfileData, tenant: CurrentTenant, response: Response
) -> UserProfileInfo:
    """Operations that create or update user profile"""
    info, created = await tenant.write(service.put_profile, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return info


@router.post(
    "/v2/userProfiles/users/{identifier}",
    summary="Find profiles of a user by user identifier",
    response_model=list[UserProfileInfo],
    responses={**NOT_FOUND},
)
async def find_profiles_of_a_user_by_user_identifier(
    identifier: Annotated[str, path_identifier("identifier", "User identifier")], tenant: CurrentTenant
) -> list[UserProfileInfo]:
    """Find profiles of a user by user identifier"""
    return await tenant.read(service.profiles_of_user, identifier)


@router.put(
    "/v2/userProfiles/{profileIdentifier}/users/{userIdentifier}",
    summary="Assign profile of a user by user identifier and profile identifier",
    response_class=Response,
    responses={200: {"description": "Assignment of profile of a user was updated"}, **NOT_FOUND},
)
async def assign_profile_of_a_user_by_user_identifier_and_profile_identifier(
    profile_identifier: ProfileIdentifier,
    user_identifier: UserIdentifier,
    tenant: CurrentTenant,
    replace: Annotated[bool, Query(description="Remove all current mapping of user to profiles")] = False,
) -> Response:
    """Assign profile of a user by user identifier and profile identifier"""
    await tenant.write(service.assign_user, profile_identifier, user_identifier, replace=replace)
    return Response(status_code=status.HTTP_200_OK)


@router.delete(
    "/v2/userProfiles/{profileIdentifier}/users/{userIdentifier}",
    summary="Remove profile of a user by user identifier and profile identifier",
    response_class=Response,
    responses={
        200: {"description": "Remove assignment of profile of a user was updated"},
        **NOT_FOUND,
    },
)
async def remove_profile_of_a_user_by_user_identifier_and_profile_identifier(
    profile_identifier: ProfileIdentifier, user_identifier: UserIdentifier, tenant: CurrentTenant
) -> Response:
    """Remove profile of a user by user identifier and profile identifier"""
    await tenant.write(service.remove_user, profile_identifier, user_identifier)
    return Response(status_code=status.HTTP_200_OK)
