"""Links to certificate PDFs: encrypted, signed and expiring tokens that stand in for a bearer token.

A link names one certification: the learner and the certificate by their ``link_id`` (random,
never given to another row, never changed: not the internal ids, which a deleted row's successor
may inherit, nor the identifiers an integrator may change or give again), and the date he was
certified, so that a later certification of his is not opened by an earlier one's link. No
client can read or alter it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken

from enabley.errors import NotFound

if TYPE_CHECKING:
    from enabley.deps import AppContext

PDF_PATH = "/api/v1/certificates/pdf/"
PDF_TOKEN_TTL_SECONDS = 7 * 24 * 3600
_PURPOSE = "certificate-pdf"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class PdfLink:
    """The certification a link was issued for."""

    user: uuid.UUID
    """The learner's ``link_id``."""
    certificate: uuid.UUID
    """The certificate's ``link_id``."""
    certified_at: int
    """The certification date, in microseconds since the epoch (see ``instant``)."""


def instant(value: datetime) -> int:
    """A date as the exact integer a link carries."""
    return (value - _EPOCH) // _MICROSECOND


def _fernet(context: AppContext) -> Fernet:
    return Fernet(context.keyring.fernet_key(_PURPOSE))


def pdf_url(context: AppContext, user: uuid.UUID, certificate: uuid.UUID, certified_at: datetime) -> str:
    """A link to the PDF of this certification that opens without a token, valid for 7 days."""
    payload = {"u": user.hex, "c": certificate.hex, "d": instant(certified_at)}
    token = _fernet(context).encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return context.settings.public_base_url.rstrip("/") + PDF_PATH + token


def read_token(context: AppContext, token: str) -> PdfLink:
    """The certification a link names; 404 when it is altered or has expired."""
    gone = NotFound("This certificate link is invalid or has expired")
    if len(token) > 1024:
        raise gone
    try:
        data = json.loads(_fernet(context).decrypt(token.encode(), ttl=PDF_TOKEN_TTL_SECONDS))
        return PdfLink(uuid.UUID(hex=data["u"]), uuid.UUID(hex=data["c"]), int(data["d"]))
    except (InvalidToken, ValueError, UnicodeError, TypeError, KeyError, AttributeError):
        raise gone from None
