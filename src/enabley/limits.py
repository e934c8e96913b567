"""Request limits (OWASP API4), answered with the spec's ErrorResponse rather than plain text.

- bodies over the limit of their path: 413, at once when Content-Length says so, else while
  streaming, so an oversized body is never held in memory;
- query strings over 8 KiB: 400; headers over 16 KiB in all: 431 (401 when the bulk of it is an
  Authorization header: an absurd token is refused like any bad token);
- NUL characters in the path, the query or a body: 400. PostgreSQL can't store them and SQLite
  would, so they are refused at the door for one behaviour on both.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enabley.errors import error_bytes_at

MAX_QUERY_BYTES = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024
_NUL_MARKERS = (b"\x00", b"\\u0000")
_NUL_IN_URL = (b"%00", b"\x00")


class BodyTooLarge(HTTPException):
    """Raised while reading a body past its limit; errors.py renders it as JSON."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413, detail=f"Request body is larger than the {limit} bytes this endpoint accepts"
        )


class NulInBody(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=400, detail="The request body contains a NUL character (\\u0000)")


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp, *, default: int, by_prefix: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.by_prefix = sorted((by_prefix or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.by_prefix:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = _refuse_url_and_headers(scope)
        if refusal is not None:
            await _reject(send, scope["path"], *refusal)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reject(send, scope["path"], 413, BodyTooLarge(limit).detail)
            return
        received = 0
        tail = b""

        async def guarded() -> Message:
            nonlocal received, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise BodyTooLarge(limit)
                window = tail + chunk
                if any(marker in window for marker in _NUL_MARKERS):
                    raise NulInBody()
                tail = window[-5:]
            return message

        await self.app(scope, guarded, send)


def _refuse_url_and_headers(scope: Scope) -> tuple[int, str] | None:
    query: bytes = scope.get("query_string", b"")
    if len(query) > MAX_QUERY_BYTES:
        return 400, f"The query string is longer than {MAX_QUERY_BYTES} bytes"
    if any(marker in query.upper() for marker in _NUL_IN_URL) or "\x00" in scope["path"]:
        return 400, "The URL contains a NUL character (%00)"
    sizes = {name: len(name) + len(value) for name, value in scope["headers"]}
    if sum(sizes.values()) > MAX_HEADER_BYTES:
        if sizes.get(b"authorization", 0) > MAX_HEADER_BYTES // 2:
            return 401, "The access token is not valid"
        return 431, f"The request headers are larger than {MAX_HEADER_BYTES} bytes"
    return None


async def _reject(send: Send, path: str, status: int, description: str) -> None:
    error = "access_denied" if status == 401 else "invalid_request"
    body, media_type = error_bytes_at(path, status, error, description)
    headers = [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
