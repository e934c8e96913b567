"""Admin API: what the LMS side puts into channels (masters, content items, training events, details)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status

from enabley.channels import items, service
from enabley.channels.schemas import (
    ChannelDetails,
    ChannelDetailsData,
    ContentItemData,
    ContentItemInfo,
    ExternalMasterChannelGet,
    MasterChannelData,
    TrainingEventData,
    TrainingEventInfo,
)
from enabley.deps import CurrentTenant
from enabley.schemas import CONFLICT, ERRORS, NOT_FOUND, OK_EMPTY, path_identifier

router = APIRouter(responses=ERRORS, prefix="/api/admin", tags=["Admin"])

ChannelIdentifier = Annotated[
    str, path_identifier("channelIdentifier", "Channel or master channel identifier")
]
ItemIdentifier = Annotated[str, path_identifier("itemIdentifier", "Item identifier within the channel")]


def _upserted(model: type, name: str) -> dict[int | str, dict[str, object]]:
    return {
        200: {"description": f"{name} was updated"},
        201: {"description": f"{name} was created", "model": model},
        **NOT_FOUND,
        **CONFLICT,
    }


@router.put(
    "/v1/masterChannels",
    summary="Create or update a master channel",
    response_model=ExternalMasterChannelGet,
    responses=_upserted(ExternalMasterChannelGet, "Master channel"),
)
async def create_or_update_master_channel(
    body: MasterChannelData, tenant: CurrentTenant, response: Response
) -> ExternalMasterChannelGet:
    """Create a master channel or update it. Its identifier must not be used by an ordinary channel
    (409). Fields left out of an update keep their value."""
    info, created = await tenant.write(service.put_master, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return info


@router.get(
    "/v1/masterChannels/{identifier}",
    summary="Get a master channel",
    response_model=ExternalMasterChannelGet,
    responses={**NOT_FOUND},
)
async def get_master_channel(
    identifier: Annotated[str, path_identifier("identifier", "Master channel identifier")],
    tenant: CurrentTenant,
) -> ExternalMasterChannelGet:
    """A master channel (a read-back of *Create or update a master channel*)."""
    return await tenant.read(service.master_info, identifier)


@router.put(
    "/v1/channels/{channelIdentifier}/contentItems",
    summary="Create or update a content item",
    response_model=ContentItemInfo,
    responses=_upserted(ContentItemInfo, "Content item"),
)
async def create_or_update_content_item(
    channel_identifier: ChannelIdentifier, body: ContentItemData, tenant: CurrentTenant, response: Response
) -> ContentItemInfo:
    """Create or update a content item of a channel or master channel. A channel's content items and
    training events share one identifier space (409 when a training event has the identifier).
    Fields left out of an update keep their value."""
    info, created = await tenant.write(items.put_content_item, channel_identifier, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return info


@router.get(
    "/v1/channels/{channelIdentifier}/contentItems",
    summary="List content items",
    response_model=list[ContentItemInfo],
    responses={**NOT_FOUND},
)
async def list_content_items(
    channel_identifier: ChannelIdentifier, tenant: CurrentTenant
) -> list[ContentItemInfo]:
    """The content items of a channel or master channel, in the order they were created."""
    return await tenant.read(items.content_items, channel_identifier)


@router.get(
    "/v1/channels/{channelIdentifier}/contentItems/{itemIdentifier}",
    summary="Get a content item",
    response_model=ContentItemInfo,
    responses={**NOT_FOUND},
)
async def get_content_item(
    channel_identifier: ChannelIdentifier, item_identifier: ItemIdentifier, tenant: CurrentTenant
) -> ContentItemInfo:
    """One content item of a channel or master channel."""
    return await tenant.read(items.content_item, channel_identifier, item_identifier)


@router.delete(
    "/v1/channels/{channelIdentifier}/contentItems/{itemIdentifier}",
    summary="Delete a content item",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def delete_content_item(
    channel_identifier: ChannelIdentifier, item_identifier: ItemIdentifier, tenant: CurrentTenant
) -> Response:
    """Delete a content item, with the learners' progress on it."""
    await tenant.write(items.delete_content_item, channel_identifier, item_identifier)
    return Response(status_code=status.HTTP_200_OK)


@router.put(
    "/v1/channels/{channelIdentifier}/trainingEvents",
    summary="Create or update a training event",
    response_model=TrainingEventInfo,
    responses=_upserted(TrainingEventInfo, "Training event"),
)
async def create_or_update_training_event(
    channel_identifier: ChannelIdentifier, body: TrainingEventData, tenant: CurrentTenant, response: Response
) -> TrainingEventInfo:
    """Create or update a training event of a channel or master channel. untilDate must not be before
    fromDate (400). A channel's content items and training events share one identifier space (409
    when a content item has the identifier). Fields left out of an update keep their value."""
    info, created = await tenant.write(items.put_training_event, channel_identifier, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return info


@router.get(
    "/v1/channels/{channelIdentifier}/trainingEvents",
    summary="List training events",
    response_model=list[TrainingEventInfo],
    responses={**NOT_FOUND},
)
async def list_training_events(
    channel_identifier: ChannelIdentifier, tenant: CurrentTenant
) -> list[TrainingEventInfo]:
    """The training events of a channel or master channel, in the order they were created."""
    return await tenant.read(items.training_events, channel_identifier)


@router.get(
    "/v1/channels/{channelIdentifier}/trainingEvents/{itemIdentifier}",
    summary="Get a training event",
    response_model=TrainingEventInfo,
    responses={**NOT_FOUND},
)
async def get_training_event(
    channel_identifier: ChannelIdentifier, item_identifier: ItemIdentifier, tenant: CurrentTenant
) -> TrainingEventInfo:
    """One training event of a channel or master channel."""
    return await tenant.read(items.training_event_of, channel_identifier, item_identifier)


@router.delete(
    "/v1/channels/{channelIdentifier}/trainingEvents/{itemIdentifier}",
    summary="Delete a training event",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def delete_training_event(
    channel_identifier: ChannelIdentifier, item_identifier: ItemIdentifier, tenant: CurrentTenant
) -> Response:
    """Delete a training event, with the learners' progress on it."""
    await tenant.write(items.delete_training_event, channel_identifier, item_identifier)
    return Response(status_code=status.HTTP_200_OK)


@router.put(
    "/v1/channels/{channelIdentifier}/details",
    summary="Set channel details",
    response_model=ChannelDetails,
    responses={**NOT_FOUND},
)
async def set_channel_details(
    channel_identifier: ChannelIdentifier, body: ChannelDetailsData, tenant: CurrentTenant
) -> ChannelDetails:
    """Set the categories and schedule of a channel or master channel (endDate must not be before
    startDate). Fields left out keep their value; `"schedule": null` removes the schedule."""
    return await tenant.write(service.set_details, channel_identifier, body)


@router.get(
    "/v1/channels/{channelIdentifier}/details",
    summary="Get channel details",
    response_model=ChannelDetails,
    responses={**NOT_FOUND},
)
async def get_channel_details(channel_identifier: ChannelIdentifier, tenant: CurrentTenant) -> ChannelDetails:
    """The categories and schedule of a channel or master channel."""
    return await tenant.read(service.get_details, channel_identifier)
