"""Idempotency keys without I/O: reading the header, fingerprinting a request, and deciding which
answers are kept (draft-ietf-httpapi-idempotency-key-header-09)."""

from __future__ import annotations

import hashlib
import zlib
from datetime import timedelta

from enabley.models.idempotency import KEY_LENGTH

HEADER = b"idempotency-key"
REPLAYED = "Idempotency-Replayed"
"""Marks an answer replayed from the first request sent with the key."""
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

KEPT_FOR = timedelta(hours=24)
"""How long a key and its answer are kept: a retry within a day replays; after, the key is new."""
LEASE = timedelta(minutes=5)
"""How long a request may hold a key without answering before a retry takes the key over: only a
process that died in the middle of a request (a 5xx or an exception gives the key back at once)."""
WAIT_FOR_FIRST = 2.0
"""Seconds a retry waits for the request holding its key to answer, before it gets a 409."""
MAX_KEPT_BODY = 1024 * 1024
"""The largest answer body kept for replays (before compression)."""

KEPT_HEADERS = frozenset(
    {
        "content-type",
        "content-disposition",
        "content-location",
        "location",
        "etag",
        "last-modified",
        "cache-control",
    }
)
"""What a replay repeats of the first answer's headers; the others (rate limits, request id,
dates) belong to the answer that carries them."""

TRANSIENT = frozenset({401, 408, 409, 425, 429, 499})
"""4xx answers that depend on the moment rather than the request (an expired token, a concurrent
change, a rate limit, a client that left before its body was read): retrying may succeed, so
they are not kept."""


class InvalidKey(ValueError):
    """The Idempotency-Key header can't be used; the message says why."""


def parse_key(raw: bytes) -> str:
    """The key an Idempotency-Key header carries.

    The draft makes it a Structured Field string (``"8e03978e-40d5..."``); a bare token of the
    same visible characters is taken too, as most clients send one.
    """
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidKey("The Idempotency-Key header must be ASCII text") from None
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        key = _unquote(text[1:-1])
    elif '"' in text or "\\" in text or any(c in text for c in " \t,;"):
        raise InvalidKey(
            'The Idempotency-Key header must be a quoted string ("...") or a token without '
            "spaces, quotes, commas or semicolons"
        )
    else:
        key = text
    if not key:
        raise InvalidKey("The Idempotency-Key header is empty")
    if len(key) > KEY_LENGTH:
        raise InvalidKey(f"The Idempotency-Key header is longer than {KEY_LENGTH} characters")
    if any(not 0x20 <= ord(c) <= 0x7E for c in key):
        raise InvalidKey("The Idempotency-Key header may contain only visible ASCII characters")
    return key


def _unquote(inner: str) -> str:
    out: list[str] = []
    chars = iter(inner)
    for c in chars:
        if c == "\\":
            escaped = next(chars, "")
            if escaped not in ('"', "\\"):
                raise InvalidKey('The Idempotency-Key header has an invalid escape: only \\" and \\\\')
            out.append(escaped)
        elif c == '"':
            raise InvalidKey("The Idempotency-Key header has an unescaped quote inside its string")
        else:
            out.append(c)
    return "".join(out)


def fingerprint(method: str, path: str, query: bytes, body_digest: str) -> str:
    """What "the same request" means: method, path, query string and body (by its SHA-256)."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body_digest.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def kept(status: int) -> bool:
    """Whether an answer is final, and so kept for replays. A 5xx is not: the key is given back,
    and a retry executes (the request failed as a whole: one transaction per change)."""
    return 200 <= status < 500 and status not in TRANSIENT


def kept_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in headers
        if name.decode("latin-1").lower() in KEPT_HEADERS
    }


def secret(headers: dict[str, str]) -> bool:
    """Whether an answer is marked ``Cache-Control: no-store``: it shows a secret once (a webhook's
    signing secret), which must not be written anywhere in clear, so its body is not kept."""
    value = next((v for name, v in headers.items() if name.lower() == "cache-control"), "")
    return "no-store" in (part.strip().lower() for part in value.split(","))


def pack(body: bytes) -> bytes:
    return zlib.compress(body, 6)


def unpack(stored: bytes) -> bytes:
    return zlib.decompress(stored)
