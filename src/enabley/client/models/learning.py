"""Learning: channels, master channels, training events, catalog, performance and certificates."""

from __future__ import annotations

from enum import StrEnum

from enabley.client.models._base import DataModel, Timestamp, TimestampIn, WireModel


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
    LEARNER = "LEARNER"
    INSTRUCTOR = "INSTRUCTOR"


class Schedule(WireModel):
    end_date: Timestamp | None
    start_date: Timestamp | None


class ChannelAvailability(WireModel):
    schedule: Schedule | None
    status: AvailabilityStatus


class ChannelData(DataModel):
    """A channel to create or update (``PUT /api/v1/channels``)."""

    identifier: str
    name: str
    status: ChannelStatus | None = None
    sub_account_name: str | None = None
    type: ChannelType | None = None


class ChannelInfo(WireModel):
    availability: ChannelAvailability
    categories: list[str] | None
    created: Timestamp
    direct_link: str
    duration: int
    identifier: str
    master_channel_id: str | None
    master_channel_instance: bool
    name: str
    sub_account_name: str | None
    type: ChannelType


class ExternalChannelInstance(DataModel):
    """A course to create from a master channel (``PUT /api/v2/channels/master/instance``)."""

    identifier: str
    master_course_identifier: str
    name: str | None = None
    sub_account_name: str | None = None


class ExternalChannelMembersInfoGet(WireModel):
    learners: int


class ExternalMasterChannelGet(WireModel):
    categories: list[str]
    created: Timestamp
    identifier: str
    name: str
    published: bool
    sub_account_name: str | None


class TrainingEvent(WireModel):
    all_day_event: bool
    description: str | None
    from_date: Timestamp | None
    include_grade: bool
    is_published: bool
    live_session: bool
    location: str | None
    name: str
    until_date: Timestamp | None


class ExternalCatalogItemGet(WireModel):
    catalog_item_id: str
    link: str


class ExternalUserChannelPerformance(WireModel):
    channel_name: str
    completion_date: Timestamp | None
    external_channel_id: str
    external_user_id: str
    progress: int
    score: int | None


class ActivityData(DataModel):
    """A learner's progress on one content item or training event (admin API)."""

    user_identifier: str
    channel_identifier: str
    item_identifier: str
    completed: bool
    score: int | None = None
    occurred_at: TimestampIn | None = None


class CertificateStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    ARCHIVED = "ARCHIVED"


class ExpirationPeriod(StrEnum):
    MONTH = "MONTH"
    YEAR = "YEAR"
    DAY = "DAY"


class CertificateState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    CERTIFIED = "CERTIFIED"
    AWAITS_LEARNER_CONFIRMATION = "AWAITS_LEARNER_CONFIRMATION"
    ABOUT_TO_EXPIRE = "ABOUT_TO_EXPIRE"
    EXPIRED = "EXPIRED"
    INIT = "INIT"
    REVOKED = "REVOKED"


class CertificateExpiration(DataModel):
    """How long a certification stays valid (sent and received alike)."""

    duration: int
    period: ExpirationPeriod


class CertificateInformation(WireModel):
    course_ids: list[str]
    created: Timestamp
    expiration: CertificateExpiration | None
    external_certificate_id: str
    name: str
    status: CertificateStatus
    requires_learner_confirmation: bool = False
    """Whether a learner must confirm before being certified (absent from older servers' answers)."""


class CertificateData(DataModel):
    """A certificate definition to create or update (admin API); its courses are channel identifiers."""

    external_certificate_id: str
    name: str
    course_ids: list[str] | None = None
    expiration: CertificateExpiration | None = None
    status: CertificateStatus | None = None
    requires_learner_confirmation: bool | None = None


class ExternalUserCertificateState(WireModel):
    certification_date: Timestamp | None
    expiration_date: Timestamp | None
    external_certificate_id: str
    is_required: bool
    name: str
    pdf_url: str | None
    state: CertificateState


class RequirementUpdate(DataModel):
    """Whether a certificate is required of a user (the API's ``requirementUpdate``)."""

    certificate_identifier: str
    is_required: bool
    user_identifier: str
