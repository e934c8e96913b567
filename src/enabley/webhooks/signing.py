"""Signing secrets and signatures as the Standard Webhooks specification has them.

A secret is ``whsec_`` and the base64 of 24 random bytes; a signature is ``v1,`` and the base64 of
HMAC-SHA256 over ``{webhook-id}.{webhook-timestamp}.{body}`` keyed with those bytes. Several
signatures are sent space-separated while a rotated secret still signs.

Secrets are kept encrypted (Fernet) under a key derived from the server's secret: they must be
read back to sign, so a hash would not do, and a copy of the database alone does not reveal them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from cryptography.fernet import Fernet

from enabley.security import KeyRing

PREFIX = "whsec_"
SECRET_BYTES = 24
KEY_PURPOSE = "webhook-secrets"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,`` signature of the message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: one signature per secret that signs, space-separated."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_)


def secret_box(keyring: KeyRing) -> SecretBox:
    return SecretBox(keyring.fernet_key(KEY_PURPOSE))


class SecretBox:
    """Encrypts secrets for the database and reads them back."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode()).decode()
