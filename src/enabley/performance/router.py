from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from enabley.deps import CurrentTenant, paged
from enabley.models.lengths import TEXT_LENGTH
from enabley.pagination import Page, Walk
from enabley.performance import service
from enabley.performance.schemas import ExternalUserChannelPerformance, PerformanceQuery
from enabley.schemas import ERRORS, NOT_FOUND, OK_EMPTY, path_identifier

router = APIRouter(responses=ERRORS, prefix="/api")

PROGRESS_RULES = """

`progress` is the whole percent (rounded down) of the channel's non-optional content items and
training events the learner completed; a channel without any has progress 0 and is never
complete. `completionDate` is when the last of them was completed, null until all are.
`score` is the rounded mean score of the learner's completed scored items, null when none.
Only current learners of a channel have a row."""


def _query(alias: str, description: str) -> Any:
    return Query(alias=alias, min_length=1, max_length=TEXT_LENGTH, description=description)


@router.get(
    "/v1/performance",
    tags=["Performance"],
    summary="Get users channel performance",
    response_model=list[ExternalUserChannelPerformance],
    responses={**NOT_FOUND},
    description="""Get the user\u2019s overall performance for a specified channel. If no externalChannelId is
provided, the performance for all channels of that user will be returned.
In addition, users with no ExternalId set will not be included.
If externalChannelId is provided, the performance of the user in the given channel will be returned.

Either parameter may be used alone; with neither, every learner of every channel is listed. A
query matching more than 10,000 rows answers 400: page through those with `GET /api/v2/performance`.
An unknown channel or user answers 404."""
    + PROGRESS_RULES,
)
async def get_users_channel_performance(
    tenant: CurrentTenant,
    external_channel_id: Annotated[str | None, _query("externalChannelId", "externalChannelId")] = None,
    external_user_id: Annotated[str | None, _query("externalUserId", "externalUserId")] = None,
) -> list[ExternalUserChannelPerformance]:
    return await tenant.read(service.list_performance, external_channel_id, external_user_id)


@router.get(
    "/v2/performance",
    tags=["Performance"],
    summary="Get performance by user, channel, or both",
    response_model=Page[ExternalUserChannelPerformance],
    responses={**NOT_FOUND},
    description="""Retrieve learner performance for a specific channel, or a specific user, or both.

At least one of channelIdentifier and userIdentifier is required (400 otherwise). Pages are ordered
by user for a channel and by channel for a user. An unknown channel or user answers 404."""
    + PROGRESS_RULES,
)
async def get_performance_by_user_channel_or_both(
    walk: Annotated[Walk[PerformanceQuery], paged("v2/performance", PerformanceQuery)], tenant: CurrentTenant
) -> Page[ExternalUserChannelPerformance]:
    return await tenant.read(service.performance_page, walk)


@router.post(
    "/v4/channels/forceComplete/channel/{channelIdentifier}/user/{userIdentifier}",
    tags=["Channels"],
    summary="Force complete a channel for a learner",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def force_complete_a_channel_for_a_learner(
    channel_identifier: Annotated[str, path_identifier("channelIdentifier", "Channel identifier")],
    user_identifier: Annotated[str, path_identifier("userIdentifier", "User identifier")],
    tenant: CurrentTenant,
) -> Response:
    """Mark all non-optional content items and training events in the channel as completed for the
    specified learner.

    Items the learner had already completed keep their completion date; the others are completed
    now. An unknown channel or user answers 404, a user who is not a learner of the channel 400."""
    await tenant.write(service.force_complete, channel_identifier, user_identifier)
    return Response(status_code=status.HTTP_200_OK)
