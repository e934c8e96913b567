"""Errors: every failure of a call is an ``EnableyError`` carrying the server's ErrorResponse."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from pydantic import ValidationError

from enabley.client.models.uploads import UploadRowError


class EnableyError(Exception):
    """A call failed. ``status`` is the HTTP status (``None`` when no answer came), ``error`` the
    server's error code (``not_found``, ``item_exists``, ...) and ``error_description`` its text."""

    def __init__(
        self,
        error_description: str,
        *,
        status: int | None = None,
        error: str = "general_error",
        body: Any = None,
    ) -> None:
        super().__init__(error_description)
        self.status = status
        self.error = error
        self.error_description = error_description
        self.body = body
        """The decoded JSON body of the error answer, when there was one."""

    def __str__(self) -> str:
        where = f"HTTP {self.status} " if self.status is not None else ""
        return f"{where}{self.error}: {self.error_description}"


class InvalidRequest(EnableyError):
    """400: the request was refused as invalid. For a bulk upload, ``errors`` lists the bad rows and
    ``more_errors`` counts those left out of the list."""

    def __init__(
        self,
        error_description: str,
        *,
        status: int | None = 400,
        error: str = "invalid_request",
        body: Any = None,
        errors: list[UploadRowError] | None = None,
        more_errors: int = 0,
    ) -> None:
        super().__init__(error_description, status=status, error=error, body=body)
        self.errors = errors or []
        self.more_errors = more_errors


class Unauthorized(EnableyError):
    """401: wrong client credentials (``invalid_client``) or a refused token (``access_denied``)."""


class NotFound(EnableyError):
    """404: no such item (or an invalid paginationKey)."""


class Conflict(EnableyError):
    """409: the item exists already (``item_exists``) or a needed link does not (``item_not_exists``)."""


class ItemExists(Conflict):
    pass


class ItemNotExists(Conflict):
    pass


class PayloadTooLarge(EnableyError):
    """413: the body is larger than the endpoint accepts."""


class RateLimited(EnableyError):
    """429: too many requests. ``retry_after`` is the wait the server asked for, in seconds."""

    def __init__(self, error_description: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(error_description, **kwargs)
        self.retry_after = retry_after


class ServerError(EnableyError):
    """5xx: the server failed."""


class ServiceUnavailable(ServerError):
    """503: the server (or its database) is unavailable for now."""


class ConnectionFailed(EnableyError):
    """No answer: the server could not be reached, or the connection failed or timed out."""


class InvalidResponse(EnableyError):
    """The server answered something this client cannot read (not the API's format)."""


_BY_STATUS: dict[int, type[EnableyError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    429: RateLimited,
    503: ServiceUnavailable,
}
_CONFLICTS: dict[str, type[Conflict]] = {"item_exists": ItemExists, "item_not_exists": ItemNotExists}


def retry_after_seconds(response: httpx2.Response) -> float | None:
    """The ``Retry-After`` header in seconds (a number of seconds; HTTP dates are not used by the API)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(seconds, 0.0)


def error_from_response(response: httpx2.Response) -> EnableyError:
    """The error an unsuccessful answer stands for."""
    status = response.status_code
    body = _json_or_none(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        error = body["error"]
        description = str(body.get("error_description") or error)
    else:
        error = "general_error" if status >= 500 else "invalid_request"
        text = response.text.strip().splitlines()
        description = text[0][:200] if text else f"HTTP {status} {response.reason_phrase}".strip()
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else EnableyError)
    if cls is Conflict:
        cls = _CONFLICTS.get(error, Conflict)
    if cls is InvalidRequest:
        rows, more = _row_errors(body)
        return InvalidRequest(
            description, status=status, error=error, body=body, errors=rows, more_errors=more
        )
    if cls is RateLimited:
        return RateLimited(
            description, status=status, error=error, body=body, retry_after=retry_after_seconds(response)
        )
    return cls(description, status=status, error=error, body=body)


def _json_or_none(response: httpx2.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        return None


def _row_errors(body: Any) -> tuple[list[UploadRowError], int]:
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return [], 0
    rows: list[UploadRowError] = []
    for item in body["errors"]:
        try:
            rows.append(UploadRowError.model_validate(item))
        except ValidationError:
            rows.append(UploadRowError(message=json.dumps(item)))
    more = body.get("moreErrors")
    count = more if isinstance(more, int) and not isinstance(more, bool) else 0
    return rows, count
