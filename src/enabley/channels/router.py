from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from enabley.channels import assignments, items, service
from enabley.channels.schemas import (
    ChannelData,
    ChannelInfo,
    ChannelQuery,
    ChannelRole,
    ExternalChannelInstance,
    ExternalChannelMembersInfoGet,
    ExternalMasterChannelGet,
    GroupMemberRole,
    MasterChannelQuery,
    TrainingEvent,
)
from enabley.deps import BaseUrl, CurrentTenant, paged
from enabley.pagination import Page, Walk
from enabley.schemas import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    OK_EMPTY,
    SubAccountQuery,
    TimestampIn,
    path_identifier,
)

router = APIRouter(responses=ERRORS, prefix="/api", tags=["Channels"])

ChannelIdentifier = Annotated[str, path_identifier("channelIdentifier", "Channel identifier")]
GroupIdentifier = Annotated[str, path_identifier("groupIdentifier", "Group identifier")]
UserIdentifier = Annotated[str, path_identifier("userIdentifier", "User identifier")]
IncludeCategories = Annotated[bool | None, Query(alias="includeCategories", description="Channel categories")]
OnlyPublished = Annotated[
    bool | None, Query(alias="onlyPublished", description="Only include published master channels")
]


@router.get(
    "/v1/channels",
    summary="Get account channels",
    response_model=list[ChannelInfo],
)
async def get_account_channels(
    tenant: CurrentTenant,
    base_url: BaseUrl,
    created_since: Annotated[
        TimestampIn | None,
        Query(
            alias="createdSince",
            description="Filter by channels created since the specified date "
            "(format: YYYY-MM-DDTHH:mm:ss.SSSZ)",
        ),
    ] = None,
    include_categories: IncludeCategories = None,
    sub_account_name: SubAccountQuery = None,
) -> list[ChannelInfo]:
    """Get all channels that a certain account contains"""
    return await tenant.read(
        service.list_channels,
        base_url=base_url,
        created_since=created_since,
        include_categories=bool(include_categories),
        sub_account_name=sub_account_name,
    )


@router.put(
    "/v1/channels",
    summary="Create or update Channel",
    response_model=ChannelInfo,
    responses={
        200: {"description": "Channel was updated"},
        201: {"description": "Channel was created", "model": ChannelInfo},
        **CONFLICT,
    },
)
async def create_or_update_channel(
    body: ChannelData, tenant: CurrentTenant, base_url: BaseUrl, response: Response
) -> ChannelInfo:
    """Operations that creates or update channel"""
    info, created = await tenant.write(service.put_channel, body, base_url)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return info


@router.get(
    "/v1/channels/{channelIdentifier}/courses/events",
    summary="Get Course Training Events",
    response_model=list[TrainingEvent],
    responses={**NOT_FOUND},
)
async def get_course_training_events(
    channel_identifier: ChannelIdentifier, tenant: CurrentTenant
) -> list[TrainingEvent]:
    """Get all Course Training Events"""
    return await tenant.read(items.course_events, channel_identifier)


@router.post(
    "/v1/channels/{channelIdentifier}/groups/{groupIdentifier}",
    summary="Assign group to channel",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def assign_group_to_channel(
    channel_identifier: ChannelIdentifier,
    group_identifier: GroupIdentifier,
    tenant: CurrentTenant,
    recursive: Annotated[
        bool | None,
        Query(description="recursive: members of the group's descendant groups learn too (default false)"),
    ] = None,
    user_role: Annotated[
        GroupMemberRole, Query(alias="userRole", description="Channel member type")
    ] = GroupMemberRole.LEARNER,
) -> Response:
    """Assign group to channel"""
    await tenant.write(assignments.assign_group, channel_identifier, group_identifier, recursive)
    return Response(status_code=status.HTTP_200_OK)


@router.delete(
    "/v1/channels/{channelIdentifier}/groups/{groupIdentifier}",
    summary="Remove group from channel",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def remove_group_from_channel(
    channel_identifier: ChannelIdentifier, group_identifier: GroupIdentifier, tenant: CurrentTenant
) -> Response:
    """Remove group from channel"""
    await tenant.write(assignments.remove_group, channel_identifier, group_identifier)
    return Response(status_code=status.HTTP_200_OK)


@router.delete(
    "/v1/channels/{channelIdentifier}/users/{userIdentifier}",
    summary="Remove user from channel",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def remove_user_from_channel(
    channel_identifier: ChannelIdentifier, user_identifier: UserIdentifier, tenant: CurrentTenant
) -> Response:
    """Remove user from channel"""
    await tenant.write(assignments.remove_user, channel_identifier, user_identifier)
    return Response(status_code=status.HTTP_200_OK)


@router.get(
    "/v1/channels/{identifier}",
    summary="Find channel by identifier",
    response_model=ChannelInfo,
    responses={**NOT_FOUND},
)
async def find_channel_by_identifier(
    identifier: Annotated[str, path_identifier("identifier", "Channel identifier")],
    tenant: CurrentTenant,
    base_url: BaseUrl,
    include_categories: IncludeCategories = None,
) -> ChannelInfo:
    """Find channel by identifier"""
    return await tenant.read(
        service.channel_info, identifier, base_url=base_url, include_categories=bool(include_categories)
    )


@router.get(
    "/v2/channels/channels/masters",
    summary="Get account master channels",
    response_model=list[ExternalMasterChannelGet],
)
async def get_account_master_channels(
    tenant: CurrentTenant,
    only_published: OnlyPublished = None,
    sub_account_name: SubAccountQuery = None,
) -> list[ExternalMasterChannelGet]:
    """Get all master channels within an account"""
    return await tenant.read(
        service.list_masters, only_published=bool(only_published), sub_account_name=sub_account_name
    )


@router.get(
    "/v2/channels/channels/{channelIdentifier}/members/count",
    summary="Retrieve the number of members in a channel",
    response_model=ExternalChannelMembersInfoGet,
    responses={**NOT_FOUND},
)
async def retrieve_the_number_of_members_in_a_channel(
    channel_identifier: ChannelIdentifier, tenant: CurrentTenant
) -> ExternalChannelMembersInfoGet:
    """Retrieve the number of members in a channel: its distinct learners, directly or through groups"""
    learners = await tenant.read(assignments.count_learners, channel_identifier)
    return ExternalChannelMembersInfoGet(learners=learners)


@router.put(
    "/v2/channels/master/instance",
    summary="Create a channel instance from a master course",
    response_model=ChannelInfo,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "OK", "model": ChannelInfo},
        201: {"description": "The channel instance was created"},
        **NOT_FOUND,
        **CONFLICT,
    },
)
async def create_a_channel_instance_from_a_master_course(
    body: ExternalChannelInstance, tenant: CurrentTenant, base_url: BaseUrl
) -> ChannelInfo:
    """Operation that creates a channel instance from a master course. The instance is a COURSE
    channel with the master's content items, training events, categories and schedule."""
    return await tenant.write(service.create_instance, body, base_url)


@router.post(
    "/v2/channels/{channelIdentifier}/users/{userIdentifier}",
    summary="Assign user to channel",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def assign_user_to_channel(
    channel_identifier: ChannelIdentifier,
    user_identifier: UserIdentifier,
    tenant: CurrentTenant,
    roles: Annotated[
        list[ChannelRole] | None,
        Query(
            max_length=10,
            description="Assign a user a role, Learner or Instructor, note that an instructor is "
            "assigned with basic course permissions (default LEARNER)",
        ),
    ] = None,
) -> Response:
    """Assign user to channel"""
    await tenant.write(assignments.assign_user, channel_identifier, user_identifier, roles or [])
    return Response(status_code=status.HTTP_200_OK)


@router.get(
    "/v3/channels",
    summary="Get account channels V3",
    response_model=Page[ChannelInfo],
    responses={**NOT_FOUND},
)
async def get_account_channels_v3(
    walk: Annotated[Walk[ChannelQuery], paged("v3/channels", ChannelQuery)],
    tenant: CurrentTenant,
    base_url: BaseUrl,
) -> Page[ChannelInfo]:
    """Get all channels that a certain account contains"""
    return await tenant.read(service.channels_page, walk, base_url)


@router.get(
    "/v3/channels/masters",
    summary="Get account master channels V3",
    response_model=Page[ExternalMasterChannelGet],
    responses={**NOT_FOUND},
)
async def get_account_master_channels_v3(
    walk: Annotated[Walk[MasterChannelQuery], paged("v3/channels/masters", MasterChannelQuery)],
    tenant: CurrentTenant,
) -> Page[ExternalMasterChannelGet]:
    """Get all master channels within an account"""
    return await tenant.read(service.masters_page, walk)
