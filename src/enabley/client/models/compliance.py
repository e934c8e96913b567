"""The compliance answers of the admin API."""

from __future__ import annotations

from enum import StrEnum

from enabley.client.models._base import Timestamp, WireModel
from enabley.client.models.learning import CertificateState


class ComplianceStatus(StrEnum):
    """A listing's filter: EXPIRING learners are also COMPLIANT."""

    NON_COMPLIANT = "NON_COMPLIANT"
    EXPIRING = "EXPIRING"
    COMPLIANT = "COMPLIANT"
    ALL = "ALL"


class ComplianceCounts(WireModel):
    in_scope: int
    compliant: int
    non_compliant: int
    expiring: int
    states: dict[CertificateState, int]


class GroupComplianceInfo(WireModel):
    group_identifier: str
    name: str
    counts: ComplianceCounts


class CertificateComplianceInfo(WireModel):
    external_certificate_id: str
    name: str
    counts: ComplianceCounts


class ComplianceSummaryInfo(WireModel):
    as_of: Timestamp
    within_days: int
    overall: ComplianceCounts
    groups: list[GroupComplianceInfo]
    certificates: list[CertificateComplianceInfo]


class ComplianceLearnerInfo(WireModel):
    user_identifier: str
    first_name: str | None
    last_name: str | None
    email: str | None
    external_certificate_id: str
    certificate_name: str
    is_required: bool
    state: CertificateState
    status: str
    certification_date: Timestamp | None
    expiration_date: Timestamp | None
    group_paths: list[list[str]]
