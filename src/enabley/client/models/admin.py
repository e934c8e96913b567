"""What the admin API puts into channels and catalogs."""

from __future__ import annotations

from enum import StrEnum

from enabley.client.models._base import DataModel, Timestamp, TimestampIn, WireModel
from enabley.client.models.learning import ExternalCatalogItemGet, Schedule, TrainingEvent


class MasterChannelData(DataModel):
    identifier: str
    name: str
    published: bool | None = None
    categories: list[str] | None = None
    sub_account_name: str | None = None


class ContentItemType(StrEnum):
    VIDEO = "VIDEO"
    DOCUMENT = "DOCUMENT"
    QUIZ = "QUIZ"
    SCORM = "SCORM"
    LINK = "LINK"
    OTHER = "OTHER"


class ContentItemData(DataModel):
    identifier: str
    name: str
    type: ContentItemType | None = None
    optional: bool | None = None
    duration_seconds: int | None = None
    scored: bool | None = None


class ContentItemInfo(WireModel):
    identifier: str
    name: str
    type: ContentItemType
    optional: bool
    duration_seconds: int | None
    scored: bool


class TrainingEventData(DataModel):
    identifier: str
    name: str
    description: str | None = None
    from_date: TimestampIn | None = None
    until_date: TimestampIn | None = None
    all_day_event: bool | None = None
    include_grade: bool | None = None
    is_published: bool | None = None
    live_session: bool | None = None
    location: str | None = None
    optional: bool | None = None


class TrainingEventInfo(TrainingEvent):
    identifier: str
    optional: bool


class ScheduleData(DataModel):
    start_date: TimestampIn | None = None
    end_date: TimestampIn | None = None


class ChannelDetailsData(DataModel):
    """Categories and schedule of a channel or master channel; fields left out keep their value."""

    categories: list[str] | None = None
    schedule: ScheduleData | None = None


class ChannelDetails(WireModel):
    identifier: str
    categories: list[str]
    schedule: Schedule | None


class CatalogEntryInfo(ExternalCatalogItemGet):
    channel_identifier: str
    sub_account_name: str | None
    created: Timestamp
