"""Links to certificate PDFs: encrypted, signed and expiring tokens that stand in for a bearer token.

A token carries the account, user and certificate internal ids; no client can read or alter it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken

from enabley.errors import NotFound

if TYPE_CHECKING:
    from enabley.deps import Services

PDF_PATH = "/api/v1/certificates/pdf/"
PDF_TOKEN_TTL_SECONDS = 7 * 24 * 3600
_PURPOSE = "certificate-pdf"


def _fernet(services: Services) -> Fernet:
    return Fernet(services.keyring.fernet_key(_PURPOSE))


def pdf_url(services: Services, account_id: int, user_id: int, certificate_id: int) -> str:
    """A link to the user's certificate PDF that opens without a token, valid for 7 days.

    The token is encrypted and signed: it carries internal ids no client may read or alter.
    """
    payload = json.dumps({"a": account_id, "u": user_id, "c": certificate_id}, separators=(",", ":"))
    token = _fernet(services).encrypt(payload.encode()).decode()
    return services.settings.public_base_url.rstrip("/") + PDF_PATH + token


def read_token(services: Services, token: str) -> tuple[int, int, int]:
    """The (account, user, certificate) ids of a link; 404 when it is altered or has expired."""
    gone = NotFound("This certificate link is invalid or has expired")
    if len(token) > 1024:
        raise gone
    try:
        data = json.loads(_fernet(services).decrypt(token.encode(), ttl=PDF_TOKEN_TTL_SECONDS))
    except (InvalidToken, ValueError, UnicodeError):
        raise gone from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("a", "u", "c")):
        raise gone
    return data["a"], data["u"], data["c"]
