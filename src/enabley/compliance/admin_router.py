"""The admin API of compliance: routes under /api/admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from enabley.compliance import service
from enabley.compliance.schemas import (
    ComplianceLearnerInfo,
    ComplianceSummaryInfo,
    LearnersQuery,
    SummaryQuery,
)
from enabley.db.columns import utcnow
from enabley.deps import Context, CurrentTenant, paged
from enabley.pagination import Page, Walk
from enabley.schemas import ERRORS, NOT_FOUND

router = APIRouter(responses=ERRORS, prefix="/api/admin", tags=["Admin"])

RULES = """

A learner is in scope of a certificate when it is required for him (`PUT
/api/v1/certificates/compliance`) or, with `scope=all`, when he learns in one of its courses. He
is compliant when his certificate state is CERTIFIED or ABOUT_TO_EXPIRE, non-compliant otherwise,
and expiring when compliant and the certification ends within `withinDays` days. An unknown
certificate or group answers 404, an unknown sub-account 400."""


@router.get(
    "/v1/compliance/summary",
    summary="Compliance summary",
    response_model=ComplianceSummaryInfo,
    responses={**NOT_FOUND},
    description="Counts of the (learner, certificate) pairs in scope by certificate state and by "
    "compliant / non-compliant / expiring: overall, for each direct child group of "
    "`groupIdentifier` (each top-level group without it) and for each certificate." + RULES,
)
async def get_compliance_summary(
    filters: Annotated[SummaryQuery, Query()], tenant: CurrentTenant, context: Context
) -> ComplianceSummaryInfo:
    return await tenant.read(
        service.summary,
        filters,
        now=utcnow(),
        warning_days=context.settings.cert_expiry_warning_days,
    )


@router.get(
    "/v1/compliance/learners",
    summary="Compliance learners",
    response_model=Page[ComplianceLearnerInfo],
    responses={**NOT_FOUND},
    description="The learners in scope with the status asked for (`NON_COMPLIANT` by default), "
    "each with the certificate, its state, dates and the learner's group paths, ordered by "
    "expiration date (certifications that never end after every date, learners not certified "
    "last), then learner, paged with `paginationKey`." + RULES,
)
async def get_compliance_learners(
    walk: Annotated[Walk[LearnersQuery], paged("admin/v1/compliance/learners", LearnersQuery)],
    tenant: CurrentTenant,
    context: Context,
) -> Page[ComplianceLearnerInfo]:
    return await tenant.read(
        service.learners_page,
        walk,
        now=utcnow(),
        warning_days=context.settings.cert_expiry_warning_days,
    )
