"""The compliance API's wire models (admin schemas we invent: ``<Thing>Info`` out)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from enabley.certificates.rules import CertificateState
from enabley.compliance.rules import Scope, Standing, StatusFilter
from enabley.models.lengths import TEXT_LENGTH
from enabley.pagination import PageQuery
from enabley.schemas import ApiModel, SubAccountFilter, Timestamp

MAX_WITHIN_DAYS = 3650

OptionalIdentifier = Annotated[str | None, Field(min_length=1, max_length=TEXT_LENGTH)]


class ComplianceFilters(BaseModel):
    """The filters both compliance routes take."""

    certificate_id: OptionalIdentifier = Field(
        None, alias="certificateId", description="One certificate's externalCertificateId; all when left out"
    )
    group_identifier: OptionalIdentifier = Field(
        None,
        alias="groupIdentifier",
        description="Only the learners of this group; the summary breaks the counts down by its "
        "child groups (by the top-level groups when left out)",
    )
    recursive: bool | None = Field(
        None,
        alias="recursive",
        description="A group's learners are its members and its descendant groups' members; false: "
        "its own members only (default true)",
    )
    sub_account_name: SubAccountFilter = None
    within_days: int | None = Field(
        None,
        alias="withinDays",
        ge=0,
        le=MAX_WITHIN_DAYS,
        description="A compliant learner is expiring when the certification ends within this many "
        "days (default: the server's ENABLEY_CERT_EXPIRY_WARNING_DAYS)",
    )
    scope: Scope | None = Field(
        None,
        alias="scope",
        description="required: the learners for whom the certificate is required; all: those and "
        "every learner of one of its courses (default required)",
    )

    # Defaults stay None on the wire model: a paginationKey's filters are the ones given, and a
    # filter left out next to a key takes the key's value.
    @property
    def subtree(self) -> bool:
        return self.recursive is not False

    @property
    def scope_or_default(self) -> Scope:
        return self.scope or Scope.REQUIRED


class SummaryQuery(ComplianceFilters):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class LearnersQuery(ComplianceFilters, PageQuery):
    status: StatusFilter | None = Field(
        None,
        alias="status",
        description="NON_COMPLIANT, EXPIRING (compliant, ending within withinDays), COMPLIANT "
        "(expiring ones included) or ALL; default NON_COMPLIANT",
    )

    @property
    def status_or_default(self) -> StatusFilter:
        return self.status or StatusFilter.NON_COMPLIANT


class ComplianceCounts(ApiModel):
    """How many (learner, certificate) pairs in scope stand where."""

    in_scope: int = Field(description="Pairs in scope: compliant plus non-compliant")
    compliant: int = Field(description="Certified now (CERTIFIED or ABOUT_TO_EXPIRE)")
    non_compliant: int = Field(description="In scope and not certified now")
    expiring: int = Field(description="Compliant, and the certification ends within withinDays")
    states: dict[CertificateState, int] = Field(description="Pairs in scope by certificate state")


class GroupComplianceInfo(ApiModel):
    group_identifier: str = Field(description="The group's identifier")
    name: str = Field(description="The group's name")
    counts: ComplianceCounts


class CertificateComplianceInfo(ApiModel):
    external_certificate_id: str = Field(description="External Certificate Id")
    name: str = Field(description="Certificate name")
    counts: ComplianceCounts


class ComplianceSummaryInfo(ApiModel):
    """Compliance counts: overall, per child group and per certificate."""

    as_of: Timestamp = Field(description="The instant the states were computed for")
    within_days: int = Field(description="The expiring window in days")
    overall: ComplianceCounts
    groups: list[GroupComplianceInfo] = Field(
        description="Each direct child group of groupIdentifier (each top-level group when none), "
        "its learners counted as the recursive parameter says, ordered by name"
    )
    certificates: list[CertificateComplianceInfo] = Field(
        description="Each certificate with pairs in scope, ordered by identifier"
    )


class ComplianceLearnerInfo(ApiModel):
    """A learner in scope of a certificate, and where he stands."""

    user_identifier: str = Field(description="The learner's user identifier")
    first_name: str | None = Field(description="First name")
    last_name: str | None = Field(description="Last name")
    email: str | None = Field(description="Email")
    external_certificate_id: str = Field(description="External Certificate Id")
    certificate_name: str = Field(description="Certificate name")
    is_required: bool = Field(description="Whether the certificate is required for the learner")
    state: CertificateState = Field(description="Certificate state")
    status: Standing = Field(description="COMPLIANT, EXPIRING or NON_COMPLIANT")
    certification_date: Timestamp | None = Field(description="When certified; null while not certified")
    expiration_date: Timestamp | None = Field(
        description="When the certification ends; null while not certified or when it never expires"
    )
    group_paths: list[list[str]] = Field(
        description="Each group of the learner as the names from its top-level group down to it"
    )
