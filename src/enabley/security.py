"""Credentials and tokens: client-secret hashing, signing keys, JWT issue and verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from cachetools import LRUCache
from jwt.algorithms import HMACAlgorithm
from jwt.api_jws import PyJWS
from sqlalchemy import select
from sqlalchemy.orm import Session

from enabley.config import Settings
from enabley.db.database import Database
from enabley.db.upsert import add, insert_or_find
from enabley.errors import AccessDenied
from enabley.models import ServerSecret, SigningKey

ALGORITHM = "HS256"
ENV_KID = "env"
FIRST_KID = "k1"
MIN_SECRET_BYTES = 32
MAX_TOKEN_LENGTH = 4096

# Client secrets are 256 random bits, so a fast hash is as strong as a slow one; the key only
# separates this use of SHA-256 from any other.
_SECRET_HASH_KEY = b"enabley.client-secret.v1"


def new_client_key() -> str:
    return uuid.uuid4().hex


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_client_secret(secret: str) -> str:
    return hmac.new(_SECRET_HASH_KEY, secret.encode(), hashlib.sha256).hexdigest()


def client_secret_matches(secret: str, stored_hash: str | None) -> bool:
    """Constant-time check; an unknown client is compared against a dummy hash all the same."""
    candidate = hash_client_secret(secret)
    return hmac.compare_digest(candidate, stored_hash or "0" * len(candidate)) and stored_hash is not None


def ensure_server_keys(session: Session, settings: Settings) -> None:
    """Create the first signing key and the shared secrets when missing (safe to race)."""
    if settings.jwt_secret is None:
        _insert_if_missing(session, SigningKey(kid=FIRST_KID, secret=secrets.token_hex(32)))
    _insert_if_missing(session, ServerSecret(name="hmac", value=secrets.token_hex(32)))


def _insert_if_missing(session: Session, row: SigningKey | ServerSecret) -> None:
    model = type(row)
    key = row.kid if isinstance(row, SigningKey) else row.name
    if session.get(model, key) is None:
        insert_or_find(lambda: add(session, row), lambda: session.get(model, key))


def rotate_signing_key(session: Session, settings: Settings) -> str:
    """Add a new signing key (it signs from now on) and drop keys whose tokens can no longer be valid."""
    if settings.jwt_secret is not None:
        raise ValueError("signing keys come from ENABLEY_JWT_SECRET; change that variable to rotate")
    keys = list(session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid)))
    _insert_if_missing(session, ServerSecret(name="hmac", value=secrets.token_hex(32)))
    server_secret = bytes.fromhex(session.get_one(ServerSecret, "hmac").value)
    new = SigningKey(kid=signed_kid(server_secret, f"k{secrets.token_hex(6)}"), secret=secrets.token_hex(32))
    session.add(new)
    session.flush()
    # A key may go once its successor has signed for longer than the longest token lifetime.
    horizon = time.time() - settings.token_ttl_seconds - 60
    for older, successor in itertools.pairwise(keys):
        if successor.created_at.timestamp() < horizon:
            session.delete(older)
    return new.kid


def _kid_tag(server_secret: bytes, stem: str) -> str:
    purpose = hmac.new(server_secret, b"signing-key-id", hashlib.sha256).digest()
    return hmac.new(purpose, stem.encode(), hashlib.sha256).hexdigest()[:16]


def signed_kid(server_secret: bytes, stem: str) -> str:
    """A kid that only the holder of the server secret can make: ``<stem>.<tag>``.

    A process meeting a kid it doesn't know reads the key set again only for a kid like this
    (another process has just rotated), so made-up kids, however many, never reach the database.
    """
    return f"{stem}.{_kid_tag(server_secret, stem)}"


def _is_signed_kid(server_secret: bytes, kid: str) -> bool:
    stem, dot, tag = kid.rpartition(".")
    return bool(dot) and hmac.compare_digest(tag, _kid_tag(server_secret, stem))


class UnknownKey(AccessDenied):
    """A token signed by a key this process doesn't know yet (another process rotated): verify it
    again with the database at hand, off the event loop."""

    def __init__(self) -> None:
        super().__init__("The access token is not valid")


@dataclass(frozen=True, slots=True)
class Claims:
    client_key: str
    expires_at: float


class KeyRing:
    """Signing keys and shared secrets as this process knows them, refreshed from the database."""

    MAX_DROPPED = 1024

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._keys: dict[str, bytes] = {}
        self._hmac: bytes | None = None
        self._lock = threading.Lock()
        self._dropped: LRUCache[str, bool] = LRUCache(self.MAX_DROPPED)
        """Signed kids read for and not found: keys dropped by a rotation, looked up once."""
        if settings.jwt_secret is not None:
            secret = settings.jwt_secret.get_secret_value().encode()
            if len(secret) < MIN_SECRET_BYTES:
                raise ValueError(f"ENABLEY_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long")
            self._keys[ENV_KID] = secret

    @property
    def from_environment(self) -> bool:
        return self._settings.jwt_secret is not None

    def load(self, session: Session) -> None:
        with self._lock:
            self._hmac = bytes.fromhex(session.get_one(ServerSecret, "hmac").value)
        self._reload(session)

    def _reload(self, session: Session) -> None:
        if self.from_environment:
            return
        keys = {k.kid: k.secret.encode() for k in session.scalars(select(SigningKey))}
        with self._lock:
            self._keys = keys

    def key(self, kid: str) -> bytes | None:
        """The secret of ``kid`` as this process knows it, without asking the database."""
        return self._keys.get(kid)

    def find(self, kid: str, db: Database, *, signing: bool = False) -> bytes | None:
        """The secret of ``kid``, reading the key set again when ``kid`` may be a key another
        process has added since (the new key arrives, and dropped keys go).

        Kids come from tokens, which anyone can make up, so only a signed kid (``signed_kid``)
        not seen dropped before leads to the database; every other key this process has known
        since it started. ``signing``: the kid is the database's newest key, about to sign.
        """
        found = self._keys.get(kid)
        if found is not None or self.from_environment:
            return found
        if not signing and not self.may_be_new(kid):
            return None
        with db.session() as session:
            self._reload(session)
        found = self._keys.get(kid)
        if found is None:
            self._dropped[kid] = True
        return found

    def may_be_new(self, kid: str) -> bool:
        """Whether ``kid``, unknown here, may be a key another process has added since: signed, and
        not seen dropped."""
        return (
            not self.from_environment
            and kid not in self._keys
            and self._hmac is not None
            and kid not in self._dropped
            and _is_signed_kid(self._hmac, kid)
        )

    def derived(self, purpose: str) -> bytes:
        """A stable per-purpose secret shared by every process (pagination keys, signed links)."""
        if self._hmac is None:
            raise RuntimeError("KeyRing.load() has not run")
        return hmac.new(self._hmac, purpose.encode(), hashlib.sha256).digest()

    def fernet_key(self, purpose: str) -> bytes:
        return base64.urlsafe_b64encode(self.derived(purpose))


class _PreparedHMAC(HMACAlgorithm):
    """HS256 that vets each key once: PyJWT re-checks a key's format on every signature."""

    def __init__(self) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self._prepared: dict[bytes, bytes] = {}

    def prepare_key(self, key: str | bytes) -> bytes:
        raw = key.encode() if isinstance(key, str) else key
        prepared = self._prepared.get(raw)
        if prepared is None:
            prepared = self._prepared[raw] = super().prepare_key(raw)
        return prepared


_signer = PyJWS(algorithms=[])
_signer.register_algorithm(ALGORITHM, _PreparedHMAC())


def issue_token(settings: Settings, *, kid: str, secret: bytes, client_key: str, account: str) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": client_key,
        "acc": account,
        "iat": now,
        "nbf": now,
        "exp": now + settings.token_ttl_seconds,
        "jti": secrets.token_hex(8),
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    return _signer.encode(body, secret, algorithm=ALGORITHM, headers={"kid": kid})


class TokenVerifier:
    """Verifies bearer tokens; a token once verified is remembered until it expires.

    Clients reuse a token for many calls, and verifying the signature costs as much as the
    rest of a simple lookup, so the cache matters on every hot path. Revocation is checked on
    every call regardless (see ``deps.get_tenant``).
    """

    MAX_CACHED = 20_000

    def __init__(self, keyring: KeyRing, settings: Settings) -> None:
        self._keyring = keyring
        self._settings = settings
        self._cache: dict[str, Claims] = {}

    def verify(self, token: str, db: Database | None = None) -> Claims:
        cached = self._cache.get(token)
        now = time.time()
        if cached is not None:
            if cached.expires_at > now:
                return cached
            del self._cache[token]
            raise AccessDenied("The access token has expired")
        claims = self._decode(token, db)
        if len(self._cache) >= self.MAX_CACHED:
            self._evict(now)
        self._cache[token] = claims
        return claims

    def _evict(self, now: float) -> None:
        expired = [t for t, c in self._cache.items() if c.expires_at <= now]
        for t in expired or list(self._cache)[: self.MAX_CACHED // 4]:
            self._cache.pop(t, None)

    def _decode(self, token: str, db: Database | None) -> Claims:
        if len(token) > MAX_TOKEN_LENGTH:
            raise AccessDenied("The access token is not valid")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AccessDenied("The access token is malformed") from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise AccessDenied("The access token is not valid")
        key = self._keyring.key(kid) if db is None else self._keyring.find(kid, db)
        if key is None:
            if db is None and self._keyring.may_be_new(kid):
                raise UnknownKey()
            raise AccessDenied("The access token is not valid")
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise AccessDenied("The access token has expired") from None
        except jwt.PyJWTError:
            raise AccessDenied("The access token is not valid") from None
        sub = payload.get("sub")
        if not isinstance(sub, str):
            raise AccessDenied("The access token is not valid")
        return Claims(client_key=sub, expires_at=float(payload["exp"]))


_password_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """argon2id: slow on purpose, so call it off the event loop."""
    return _password_hasher.hash(password)
