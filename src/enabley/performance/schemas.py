from __future__ import annotations

from pydantic import ConfigDict, Field

from enabley.models.lengths import TEXT_LENGTH
from enabley.pagination import PageQuery
from enabley.schemas import ApiModel, Identifier, JsonBool, JsonInt, Timestamp, TimestampIn


class ExternalUserChannelPerformance(ApiModel):
    """External user channel performance"""

    channel_name: str = Field(description="Channel name")
    completion_date: Timestamp | None = Field(
        description="Completion date: when the learner completed the last non-optional item of the "
        "channel; null until every one is completed"
    )
    external_channel_id: str = Field(description="External channel id")
    external_user_id: str = Field(description="External user id")
    progress: int = Field(
        description="Channel progress: the whole percent (rounded down) of the channel's non-optional "
        "content items and training events the learner completed; 0 for a channel without any"
    )
    score: int | None = Field(
        description="Total score: the rounded mean score of the learner's completed scored items "
        "(content items that give a score, training events that include a grade); null when none"
    )


class ActivityData(ApiModel):
    """A learner's progress on one content item or training event of a channel."""

    user_identifier: Identifier = Field(description="The learner's user identifier")
    channel_identifier: Identifier = Field(description="The channel identifier")
    item_identifier: Identifier = Field(
        description="The identifier of a content item or training event of the channel"
    )
    completed: JsonBool = Field(
        description="Whether the learner completed the item. A completion keeps its first date; "
        "false clears it, so a later completion starts a new one"
    )
    score: JsonInt | None = Field(
        None,
        ge=0,
        le=100,
        description="The learner's score on the item, 0 to 100. Left out: the recorded score is kept",
    )
    occurred_at: TimestampIn | None = Field(
        None, description="When it happened (ISO 8601 with a zone); default: now"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "userIdentifier": "2f6a0f4e-6a55-4c3b-9d43-7f3a0c0e1b2a",
                "channelIdentifier": "onboarding-2026",
                "itemIdentifier": "safety-video",
                "completed": True,
                "score": 87,
                "occurredAt": "2026-03-02T09:30:00.000Z",
            }
        }
    )


class PerformanceQuery(PageQuery):
    """`GET /api/v2/performance`: a channel's learners, a user's channels, or one of each."""

    channel_identifier: str | None = Field(
        None,
        alias="channelIdentifier",
        min_length=1,
        max_length=TEXT_LENGTH,
        description="Channel identifier",
    )
    user_identifier: str | None = Field(
        None, alias="userIdentifier", min_length=1, max_length=TEXT_LENGTH, description="User identifier"
    )
