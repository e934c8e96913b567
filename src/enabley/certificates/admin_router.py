"""The admin API of certificates: routes under /api/admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status

from enabley.certificates import service
from enabley.certificates.router import CertificateIdentifier
from enabley.certificates.schemas import (
    CertificateData,
    CertificateInformation,
    ExternalUserCertificateState,
)
from enabley.deps import Context, CurrentTenant
from enabley.schemas import CONFLICT, ERRORS, NOT_FOUND, path_identifier

router = APIRouter(responses=ERRORS, prefix="/api/admin", tags=["Admin"])

UserIdentifier = Annotated[str, path_identifier("userIdentifier", "User identifier")]


@router.put(
    "/v1/certificates",
    summary="Create or update Certificate",
    response_model=CertificateInformation,
    responses={
        200: {"description": "Certificate was updated"},
        201: {"description": "Certificate was created", "model": CertificateInformation},
    },
)
async def create_or_update_certificate(
    body: CertificateData, tenant: CurrentTenant, response: Response
) -> CertificateInformation:
    """Create a certificate or update the one with this externalCertificateId. Its courses are
    channel identifiers (an unknown one answers 400); completing all of them earns it."""
    info, created = await tenant.write(service.upsert_certificate, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return info


@router.get(
    "/v1/certificates/{externalCertificateId}",
    summary="Find certificate",
    response_model=CertificateInformation,
    responses={**NOT_FOUND},
)
async def find_certificate(
    external_certificate_id: CertificateIdentifier, tenant: CurrentTenant
) -> CertificateInformation:
    """The certificate with this externalCertificateId."""
    return await tenant.read(service.get_certificate, external_certificate_id)


@router.post(
    "/v1/certificates/{externalCertificateId}/users/{userIdentifier}/revoke",
    summary="Revoke a user's certificate",
    response_model=ExternalUserCertificateState,
    responses={**NOT_FOUND, **CONFLICT},
)
async def revoke_users_certificate(
    external_certificate_id: CertificateIdentifier,
    user_identifier: UserIdentifier,
    tenant: CurrentTenant,
    context: Context,
) -> ExternalUserCertificateState:
    """Revoke the certificate of a connected user: his state becomes REVOKED for good. Answers 409
    item_not_exists when the user learns in none of its courses."""
    return await tenant.write(service.revoke, context, external_certificate_id, user_identifier)


@router.post(
    "/v1/certificates/{externalCertificateId}/users/{userIdentifier}/confirm",
    summary="Confirm a user's certificate",
    response_model=ExternalUserCertificateState,
    responses={**NOT_FOUND, **CONFLICT},
)
async def confirm_users_certificate(
    external_certificate_id: CertificateIdentifier,
    user_identifier: UserIdentifier,
    tenant: CurrentTenant,
    context: Context,
) -> ExternalUserCertificateState:
    """Record the learner's confirmation of a certificate that requires one: once every course is
    complete he is certified. Answers 409 item_not_exists when the user learns in none of its
    courses."""
    return await tenant.write(service.confirm, context, external_certificate_id, user_identifier)
