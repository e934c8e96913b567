"""Wire models of channels, master channels, their items, members and the admin API that fills them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from enabley.models.lengths import LOCATION_LENGTH, TEXT_LENGTH
from enabley.pagination import PageQuery
from enabley.schemas import (
    ApiModel,
    CreatedAt,
    ExternalIdentifier,
    Identifier,
    JsonBool,
    JsonInt,
    SubAccountFilter,
    Timestamp,
    TimestampIn,
)

MAX_CATEGORIES = 100


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


ChannelName = Annotated[
    str, StringConstraints(min_length=1, max_length=TEXT_LENGTH), AfterValidator(_not_blank)
]
"""A name of 1 to 255 characters, not only spaces."""

Category = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_LENGTH), AfterValidator(_not_blank)]


def _unique(value: list[str]) -> list[str]:
    return list(dict.fromkeys(value))


Categories = Annotated[
    list[Category],
    Field(max_length=MAX_CATEGORIES, description="Channel category names (at most 100, repeats dropped)"),
    AfterValidator(_unique),
]


class ChannelType(StrEnum):
    STREAM = "STREAM"
    COURSE = "COURSE"


class ChannelStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class AvailabilityStatus(StrEnum):
    ACTIVE = "ACTIVE"
    NONACTIVE = "NONACTIVE"
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    STARTED = "STARTED"
    FINISHED = "FINISHED"


class ChannelRole(StrEnum):
    """A role a user is assigned to a channel with."""

    LEARNER = "LEARNER"
    INSTRUCTOR = "INSTRUCTOR"


class GroupMemberRole(StrEnum):
    """The role a group's members get in a channel: only LEARNER."""

    LEARNER = "LEARNER"


class ContentItemType(StrEnum):
    VIDEO = "VIDEO"
    DOCUMENT = "DOCUMENT"
    QUIZ = "QUIZ"
    SCORM = "SCORM"
    LINK = "LINK"
    OTHER = "OTHER"


class Schedule(ApiModel):
    """Channel schedule"""

    end_date: Timestamp | None = Field(description="Channel End Date")
    start_date: Timestamp | None = Field(description="Channel Start Date")


class ChannelAvailability(ApiModel):
    schedule: Schedule | None = Field(description="Channel Schedule")
    status: AvailabilityStatus = Field(
        description="Channel Status: NONACTIVE for an inactive channel, DRAFT while it has neither "
        "content items nor training events, SCHEDULED/STARTED/FINISHED relative to its schedule, "
        "otherwise ACTIVE"
    )


class ChannelData(ApiModel):
    """Channel data for update. Fields left out of an update keep their value."""

    identifier: Identifier = Field(
        description="The unique id of the model entity - defined by an external provider"
    )
    name: ChannelName = Field(description="Channel name")
    status: ChannelStatus | None = Field(None, description="Channel Status ACTIVE/INACTIVE (default ACTIVE)")
    sub_account_name: Identifier | None = Field(
        None, description="The sub-account to which the channel belongs"
    )
    type: ChannelType | None = Field(None, description="Channel Type STREAM/COURSE (default COURSE)")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "identifier": "onboarding-2027",
                "name": "Onboarding 2027",
                "status": "ACTIVE",
                "subAccountName": "EU",
                "type": "COURSE",
            }
        }
    )


class ChannelInfo(ApiModel):
    """Channel info"""

    availability: ChannelAvailability = Field(description="Channel Availability")
    categories: list[str] | None = Field(
        description="Channel category names (null unless includeCategories=true)"
    )
    created: Timestamp = Field(description="Channel creation date")
    direct_link: str = Field(description="Channel direct link")
    duration: int = Field(description="Channel duration: the sum of its content items' durations, seconds")
    identifier: str = Field(description="The unique id of the model entity - defined by an external provider")
    master_channel_id: str | None = Field(
        description="The unique channel id of the master channel as defined by an external provider, "
        "or null if this channel is not a master channel instance"
    )
    master_channel_instance: bool = Field(description="Is this channel an instance of a master channel")
    name: str = Field(description="Channel name")
    sub_account_name: str | None = Field(description="The name of the Sub-Account for this Channel")
    type: ChannelType = Field(description="Channel Type STREAM/COURSE")


class ExternalMasterChannelGet(ApiModel):
    categories: list[str] = Field(description="Channel category names")
    created: CreatedAt = Field(description="The master channel creation date")
    identifier: ExternalIdentifier = Field(
        description="The unique id of the model entity - defined by an external provider"
    )
    name: str = Field(description="The master channel name")
    published: bool = Field(description="Whether the master channel is published")
    sub_account_name: str | None = Field(description="The sub-account to which the master channel belongs")


class ExternalChannelInstance(ApiModel):
    """Channel instance creation data"""

    identifier: Identifier = Field(
        description="The unique id of the model entity - defined by an external provider"
    )
    master_course_identifier: Identifier = Field(
        description="The unique id of the master course - defined by an external provider"
    )
    name: ChannelName | None = Field(None, description="Channel name (default: the master's name)")
    sub_account_name: Identifier | None = Field(
        None, description="The sub-account to which the channel belongs"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "identifier": "onboarding-2027-q1",
                "masterCourseIdentifier": "onboarding-master",
                "name": "Onboarding 2027, first quarter",
                "subAccountName": "EU",
            }
        }
    )


class ExternalChannelMembersInfoGet(ApiModel):
    learners: int = Field(description="The number of learners in the channel, 0 if none")


class TrainingEvent(ApiModel):
    """Training Event"""

    all_day_event: bool = Field(description="Indicates if the training event lasts the entire day")
    description: str | None = Field(description="Training event description")
    from_date: Timestamp | None = Field(description="Start date and time of the training event")
    include_grade: bool = Field(description="Indicates if grading is included for the training event")
    is_published: bool = Field(description="Indicates if the training event is published")
    live_session: bool = Field(description="Indicates if the training event is a live session")
    location: str | None = Field(description="Event location")
    name: str = Field(description="The name of the training event")
    until_date: Timestamp | None = Field(description="End date and time of the training event")


# Admin API: what the LMS side puts in.


class MasterChannelData(ApiModel):
    """A master channel. Fields left out of an update keep their value."""

    identifier: Identifier = Field(description="The master channel's unique id, defined by the integrator")
    name: ChannelName = Field(description="The master channel name")
    published: JsonBool | None = Field(None, description="Offered for instantiation (default false)")
    categories: Categories | None = None
    sub_account_name: Identifier | None = Field(
        None, description="The sub-account to which the master channel belongs"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "identifier": "onboarding-master",
                "name": "Onboarding",
                "published": True,
                "categories": ["Compliance", "New hires"],
                "subAccountName": "EU",
            }
        }
    )


class ContentItemData(ApiModel):
    """A content item of a channel. Fields left out of an update keep their value."""

    identifier: Identifier = Field(description="The item's unique id within its channel")
    name: ChannelName = Field(description="The content item name")
    type: ContentItemType | None = Field(None, description="Content type (default OTHER)")
    optional: JsonBool | None = Field(
        None, description="Not required to complete the channel (default false)"
    )
    duration_seconds: Annotated[JsonInt | None, Field(ge=0, le=10**9)] = Field(
        None, description="How long the item takes, in seconds"
    )
    scored: JsonBool | None = Field(None, description="The item gives a score (default false)")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "identifier": "intro-video",
                "name": "Introduction",
                "type": "VIDEO",
                "optional": False,
                "durationSeconds": 600,
                "scored": False,
            }
        }
    )


class ContentItemInfo(ApiModel):
    identifier: str = Field(description="The item's unique id within its channel")
    name: str = Field(description="The content item name")
    type: ContentItemType = Field(description="Content type")
    optional: bool = Field(description="Not required to complete the channel")
    duration_seconds: int | None = Field(description="How long the item takes, in seconds")
    scored: bool = Field(description="The item gives a score")


class TrainingEventData(ApiModel):
    """A training event of a channel. Fields left out of an update keep their value."""

    identifier: Identifier = Field(description="The event's unique id within its channel")
    name: ChannelName = Field(description="The name of the training event")
    description: Annotated[str | None, Field(max_length=10_000)] = Field(
        None, description="Training event description"
    )
    from_date: TimestampIn | None = Field(None, description="Start date and time of the training event")
    until_date: TimestampIn | None = Field(None, description="End date and time of the training event")
    all_day_event: JsonBool | None = Field(None, description="Lasts the entire day (default false)")
    include_grade: JsonBool | None = Field(None, description="Grading is included (default false)")
    is_published: JsonBool | None = Field(None, description="Published (default false)")
    live_session: JsonBool | None = Field(None, description="A live session (default false)")
    location: Annotated[str | None, Field(max_length=LOCATION_LENGTH)] = Field(
        None, description="Event location"
    )
    optional: JsonBool | None = Field(
        None, description="Not required to complete the channel (default false)"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "identifier": "kickoff",
                "name": "Kick-off session",
                "description": "Meet the team",
                "fromDate": "2027-01-11T09:00:00.000Z",
                "untilDate": "2027-01-11T11:00:00.000Z",
                "allDayEvent": False,
                "includeGrade": False,
                "isPublished": True,
                "liveSession": True,
                "location": "Room 4",
                "optional": False,
            }
        }
    )


class TrainingEventInfo(TrainingEvent):
    """A training event with its identifier and whether it is optional."""

    identifier: str = Field(description="The event's unique id within its channel")
    optional: bool = Field(description="Not required to complete the channel")


class ScheduleData(ApiModel):
    """A channel's schedule; either end may be left open."""

    start_date: TimestampIn | None = Field(None, description="Channel Start Date")
    end_date: TimestampIn | None = Field(None, description="Channel End Date")

    @model_validator(mode="after")
    def _ordered(self) -> ScheduleData:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("endDate must not be before startDate")
        return self


class ChannelDetailsData(ApiModel):
    """Categories and schedule of a channel or master channel. Fields left out keep their value."""

    categories: Categories | None = None
    schedule: ScheduleData | None = Field(None, description="The schedule, or null for none")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "categories": ["Compliance"],
                "schedule": {"startDate": "2027-01-10T00:00:00.000Z", "endDate": "2027-03-31T23:59:59.000Z"},
            }
        }
    )


class ChannelDetails(ApiModel):
    identifier: str = Field(description="The channel identifier")
    categories: list[str] = Field(description="Channel category names")
    schedule: Schedule | None = Field(description="The schedule, null when none")


class ChannelQuery(PageQuery):
    """`GET /api/v3/channels`: which channels, and how."""

    include_categories: bool | None = Field(None, alias="includeCategories", description="Channel categories")
    sub_account_name: SubAccountFilter = None


class MasterChannelQuery(PageQuery):
    """`GET /api/v3/channels/masters`: which master channels."""

    only_published: bool | None = Field(
        None, alias="onlyPublished", description="Only include published master channels"
    )
    sub_account_name: SubAccountFilter = None
