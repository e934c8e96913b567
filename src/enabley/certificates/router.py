from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from enabley.certificates import service
from enabley.certificates.schemas import (
    CertificateInformation,
    ExternalUserCertificateState,
    requirementUpdate,
)
from enabley.deps import Context, CurrentTenant, paged
from enabley.pagination import Page, PageQuery, Walk
from enabley.schemas import CONFLICT, ERRORS, NOT_FOUND, path_identifier

router = APIRouter(responses=ERRORS, prefix="/api")
links_router = APIRouter(prefix="/api")
"""The certificate links: public on purpose (the link is the credential), so without the token's
errors."""

CertificateIdentifier = Annotated[str, path_identifier("externalCertificateId", "External certificate id")]

STATE_RULES = """

A user is connected to a certificate while he learns in any of its courses. His state is
REVOKED once revoked; INIT while none of its courses has progress; IN_PROGRESS until every
course is complete; AWAITS_LEARNER_CONFIRMATION when the certificate needs his confirmation;
otherwise he is certified on the date he completed the last course, and the certification is
ABOUT_TO_EXPIRE in the days before its expiration date and EXPIRED from then on. `pdfUrl` links
to the certificate PDF while he is certified (CERTIFIED or ABOUT_TO_EXPIRE) and is null otherwise."""


@router.get(
    "/v1/certificates",
    tags=["Certificates"],
    summary="Get account certificates",
    response_model=list[CertificateInformation],
)
async def get_account_certificates(tenant: CurrentTenant) -> list[CertificateInformation]:
    """Get all certificates information for that account"""
    return await tenant.read(service.list_certificates)


@router.put(
    "/v1/certificates/compliance",
    tags=["Certificates"],
    summary="Update Certificate Requirement for a User",
    response_model=ExternalUserCertificateState,
    responses={
        200: {"description": "Requirement status was updated"},
        404: {**NOT_FOUND[404], "description": "User or certificate not found"},
        409: {**CONFLICT[409], "description": "No existing user-certificate connection"},
    },
)
async def update_certificate_requirement_for_a_user(
    body: requirementUpdate, tenant: CurrentTenant, context: Context
) -> ExternalUserCertificateState:
    """Define whether the certificate is required for the user or not

    Answers the user's resulting certificate state."""
    return await tenant.write(
        service.set_requirement, context, body.certificate_identifier, body.user_identifier, body.is_required
    )


@links_router.get(
    "/v1/certificates/pdf/{token}",
    tags=["Certificates"],
    summary="Get certificate PDF",
    response_class=Response,
    responses={
        200: {"description": "The certificate PDF", "content": {"application/pdf": {}}},
        404: {**NOT_FOUND[404], "description": "Invalid or expired link, or the user is no longer certified"},
        **{code: ERRORS[code] for code in (500, 503)},
    },
)
async def get_certificate_pdf(
    token: Annotated[str, path_identifier("token", "The token of a pdfUrl")], context: Context
) -> Response:
    """The certificate PDF a `pdfUrl` links to: the learner's name, the
    certificate name, and the certification and expiration dates.

    Needs no bearer token, so that it opens in a browser: the link itself is the credential. It is
    valid for 7 days, and answers 404 once expired, altered, or when the user is no longer
    certified (revoked, expired, or no longer a learner of its courses)."""
    document = await context.db.reading(service.certificate_document, context, token)
    content = service.cached_pdf(document)
    if content is None:
        content = await run_in_threadpool(service.render_pdf, document)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="certificate.pdf"', "Cache-Control": "private"},
    )


@router.get(
    "/v1/certificates/users/{externalUserId}",
    tags=["Certificates"],
    summary="Get user\u2019s certificates",
    response_model=list[ExternalUserCertificateState],
    responses={**NOT_FOUND},
    description="Get all of the user\u2019s accomplishments in form of certificates" + STATE_RULES,
)
async def get_users_certificates(
    external_user_id: Annotated[str, path_identifier("externalUserId", "externalUserId")],
    tenant: CurrentTenant,
    context: Context,
) -> list[ExternalUserCertificateState]:
    return await tenant.read(service.user_certificates, context, external_user_id)


@router.get(
    "/v2/certificates",
    tags=["Certificates"],
    summary="Get account certificates V2",
    response_model=Page[CertificateInformation],
    responses={**NOT_FOUND},
)
async def get_account_certificates_v2(
    walk: Annotated[Walk[PageQuery], paged("v2/certificates", PageQuery)], tenant: CurrentTenant
) -> Page[CertificateInformation]:
    """Get all certificates information for that account"""
    return await tenant.read(service.certificates_page, walk)


@router.get(
    "/v2/certificates/{externalCertificateId}",
    tags=["Certificates"],
    summary="Get account certificate by external certificate id",
    response_model=CertificateInformation,
    responses={**NOT_FOUND},
)
async def get_account_certificate_by_external_certificate_id(
    external_certificate_id: CertificateIdentifier, tenant: CurrentTenant
) -> CertificateInformation:
    """Get certificate by external certificate id"""
    return await tenant.read(service.get_certificate, external_certificate_id)
