from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from enabley.certificates.rules import CertificateState, ExpirationPeriod
from enabley.models.lengths import TEXT_LENGTH
from enabley.schemas import ApiModel, Identifier, JsonBool, JsonInt, Timestamp

MAX_COURSES = 500

CertificateName = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_LENGTH)]


class CertificateStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    ARCHIVED = "ARCHIVED"


class CertificateExpiration(ApiModel):
    """CertificateExpiration: how long a certification stays valid."""

    duration: JsonInt = Field(ge=1, le=10_000, description="How many periods the certification lasts")
    period: ExpirationPeriod = Field(description="The unit of the duration (calendar months and years)")


class CertificateInformation(ApiModel):
    """Certificate information"""

    course_ids: list[str] = Field(description="Courses related to the certificate")
    created: Timestamp = Field(description="Certificate creation date")
    expiration: CertificateExpiration | None = Field(
        description="Certificate expiration; null when a certification never expires"
    )
    external_certificate_id: str = Field(description="External Certificate Id")
    name: str = Field(description="Certificate name")
    status: CertificateStatus = Field(description="Certificate status")
    # Not in the API reference's definition, whose fields are all kept: what the admin API accepts,
    # every read of a certificate gives back.
    requires_learner_confirmation: bool = Field(
        description="Whether a learner who completed every course must confirm before being certified"
    )


class CertificateData(ApiModel):
    """A certificate to create or update. Fields left out of an update keep their value."""

    external_certificate_id: Identifier = Field(description="External Certificate Id")
    name: CertificateName = Field(description="Certificate name")
    course_ids: list[Identifier] = Field(
        default_factory=list,
        max_length=MAX_COURSES,
        description="Identifiers of the channels whose learners work towards the certificate; it is "
        "earned by completing every one of them",
    )
    expiration: CertificateExpiration | None = Field(
        None, description="How long a certification stays valid; null: it never expires"
    )
    status: CertificateStatus = Field(CertificateStatus.ACTIVE, description="Certificate status")
    requires_learner_confirmation: JsonBool = Field(
        False, description="Whether a learner who completed every course must confirm before being certified"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "externalCertificateId": "forklift-safety",
                "name": "Forklift safety",
                "courseIds": ["forklift-basics", "warehouse-safety"],
                "expiration": {"duration": 2, "period": "YEAR"},
                "status": "ACTIVE",
                "requiresLearnerConfirmation": False,
            }
        }
    )


class ExternalUserCertificateState(ApiModel):
    """ExternalUserCertificateState"""

    certification_date: Timestamp | None = Field(
        description="The date in which the user was certified (null while not certified)"
    )
    expiration_date: Timestamp | None = Field(
        description="The date the user\u2019s certification will no longer be valid "
        "(null when it never expires)"
    )
    external_certificate_id: str = Field(description="External Certificate Id")
    is_required: bool = Field(description="isRequired")
    name: str = Field(description="Certificate name")
    pdf_url: str | None = Field(
        description="Certificate PDF: a link that opens without a token and stays valid for 7 days; "
        "null while the user is not certified"
    )
    state: CertificateState = Field(description="Certificate state")


class requirementUpdate(ApiModel):  # the spec's definition name
    """Certificate requirements update data"""

    certificate_identifier: Identifier = Field(description="certificateIdentifier")
    is_required: JsonBool = Field(description="isRequired")
    user_identifier: Identifier = Field(description="userIdentifier")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "certificateIdentifier": "forklift-safety",
                "isRequired": True,
                "userIdentifier": "2f6a0f4e-6a55-4c3b-9d43-7f3a0c0e1b2a",
            }
        }
    )
