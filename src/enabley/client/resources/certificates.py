"""Certificates (API reference 3.3)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator
from urllib.parse import unquote, urlsplit

from enabley.client import _call as c
from enabley.client._call import Call
from enabley.client.models import (
    CertificateInformation,
    ExternalUserCertificateState,
    Page,
    RequirementUpdate,
)
from enabley.client.resources._base import AsyncResource, SyncResource


def _all() -> Call[list[CertificateInformation]]:
    return Call("GET", "/api/v1/certificates", c.list_of(CertificateInformation))


def _page(key: str | None) -> Call[Page[CertificateInformation]]:
    return Call("GET", "/api/v2/certificates", c.page(CertificateInformation), params={"paginationKey": key})


def _get(certificate: str) -> Call[CertificateInformation]:
    return Call("GET", c.path("/api/v2/certificates/{}", certificate), c.model(CertificateInformation))


def _set_requirement(certificate: str, user: str, is_required: bool) -> Call[ExternalUserCertificateState]:
    update = RequirementUpdate(
        certificate_identifier=certificate, user_identifier=user, is_required=is_required
    )
    return Call(
        "PUT", "/api/v1/certificates/compliance", c.model(ExternalUserCertificateState), json=update.wire()
    )


def _of_user(user: str) -> Call[list[ExternalUserCertificateState]]:
    url = c.path("/api/v1/certificates/users/{}", user)
    return Call("GET", url, c.list_of(ExternalUserCertificateState))


def _pdf(pdf_url: str) -> Call[bytes]:
    # A pdfUrl ends in its token; it is fetched through this client's base URL, without a bearer
    # token: the link is its own credential.
    token = unquote(urlsplit(pdf_url).path.rstrip("/").rsplit("/", 1)[-1])
    url = c.path("/api/v1/certificates/pdf/{}", token)
    return Call("GET", url, c.content, authenticated=False)


class Certificates(SyncResource):
    """``client.certificates``: certificate definitions, users' certificate states, compliance."""

    def all(self) -> builtins.list[CertificateInformation]:
        """Every certificate in one answer (``GET /api/v1/certificates``)."""
        return self._engine.send(_all())

    def list(self, pagination_key: str | None = None) -> Page[CertificateInformation]:
        """One page of certificates (``GET /api/v2/certificates``)."""
        return self._engine.send(_page(pagination_key))

    def pages(self) -> Iterator[Page[CertificateInformation]]:
        return self._pages(_page)

    def iter(self) -> Iterator[CertificateInformation]:
        return self._items(_page)

    def get(self, certificate: str) -> CertificateInformation:
        """The certificate with this externalCertificateId."""
        return self._engine.send(_get(certificate))

    def of_user(self, user: str) -> builtins.list[ExternalUserCertificateState]:
        """The user's state for each certificate he works towards."""
        return self._engine.send(_of_user(user))

    def set_requirement(self, certificate: str, user: str, is_required: bool) -> ExternalUserCertificateState:
        """Make the certificate required of the user, or not."""
        return self._engine.send(_set_requirement(certificate, user, is_required))

    def pdf(self, pdf_url: str) -> bytes:
        """The PDF a ``pdfUrl`` links to (the URL, or just its token)."""
        return self._engine.send(_pdf(pdf_url))


class AsyncCertificates(AsyncResource):
    async def all(self) -> builtins.list[CertificateInformation]:
        return await self._engine.send(_all())

    async def list(self, pagination_key: str | None = None) -> Page[CertificateInformation]:
        return await self._engine.send(_page(pagination_key))

    def pages(self) -> AsyncIterator[Page[CertificateInformation]]:
        return self._pages(_page)

    def iter(self) -> AsyncIterator[CertificateInformation]:
        return self._items(_page)

    async def get(self, certificate: str) -> CertificateInformation:
        return await self._engine.send(_get(certificate))

    async def of_user(self, user: str) -> builtins.list[ExternalUserCertificateState]:
        return await self._engine.send(_of_user(user))

    async def set_requirement(
        self, certificate: str, user: str, is_required: bool
    ) -> ExternalUserCertificateState:
        return await self._engine.send(_set_requirement(certificate, user, is_required))

    async def pdf(self, pdf_url: str) -> bytes:
        return await self._engine.send(_pdf(pdf_url))
