"""The admin API of performance: routes under /api/admin."""

from __future__ import annotations

from fastapi import APIRouter

from enabley.deps import CurrentTenant
from enabley.performance import service
from enabley.performance.schemas import ActivityData, ExternalUserChannelPerformance
from enabley.schemas import ERRORS, NOT_FOUND

router = APIRouter(responses=ERRORS, prefix="/api/admin", tags=["Admin"])


@router.post(
    "/v1/activity",
    summary="Record learner activity",
    response_model=ExternalUserChannelPerformance,
    responses={**NOT_FOUND},
)
async def record_learner_activity(
    body: ActivityData, tenant: CurrentTenant
) -> ExternalUserChannelPerformance:
    """Record a learner's progress on one content item or training event of a channel, and answer
    the learner's resulting performance in that channel.

    An unknown user, channel or item answers 404; a user who is not a learner of the channel, or
    a score outside 0 to 100, 400."""
    return await tenant.write(service.record_activity, body)
