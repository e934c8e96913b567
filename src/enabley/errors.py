"""One error family, rendered as the spec's ErrorResponse ``{"error", "error_description"}``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

log = logging.getLogger("enabley.errors")

CLIENT_CLOSED_REQUEST = 499
"""The status of a request whose client left before sending all of it, as nginx logs it: the
answer goes nowhere, and metrics and the access line count it apart from the server's errors."""


class AppError(Exception):
    status_code = 500
    error = "general_error"
    scim_type: str | None = None
    """The SCIM error's ``scimType`` (RFC 7644 3.12) when this error answers a ``/scim/v2`` request."""

    def __init__(
        self,
        description: str = "General error",
        *,
        headers: dict[str, str] | None = None,
        scim_type: str | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.headers = headers
        if scim_type is not None:
            self.scim_type = scim_type

    def body(self) -> dict[str, Any]:
        """The JSON body: the spec's ErrorResponse (an error may add fields of its own)."""
        return error_body(self.error, self.description)


class InvalidRequest(AppError):
    status_code, error = 400, "invalid_request"


class InvalidClient(AppError):
    """Wrong, unknown or revoked client credentials at the token endpoint."""

    status_code, error = 401, "invalid_client"


class AccessDenied(AppError):
    """Missing, malformed, expired or otherwise unacceptable bearer token."""

    status_code, error = 401, "access_denied"


class NotFound(AppError):
    status_code, error = 404, "not_found"


class ItemExists(AppError):
    status_code, error = 409, "item_exists"
    scim_type = "uniqueness"


class ItemNotExists(AppError):
    status_code, error = 409, "item_not_exists"


class Gone(AppError):
    """What the request names is no longer kept (a change feed cursor past the retention period)."""

    status_code, error = 410, "gone"


class MethodNotAllowed(AppError):
    status_code, error = 405, "invalid_request"


class PreconditionFailed(AppError):
    """An ``If-Match`` naming another version than the resource's."""

    status_code, error = 412, "invalid_request"


class UnsupportedMediaType(AppError):
    status_code, error = 415, "invalid_request"


class PayloadTooLarge(AppError):
    status_code, error = 413, "invalid_request"


class TooManyRequests(AppError):
    status_code, error = 429, "access_denied"


class ServiceUnavailable(AppError):
    status_code, error = 503, "service_unavailable"


def error_body(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


def error_bytes(error: str, description: str) -> bytes:
    """The body of an error answer, rendered as every answer of the API is: for the refusals sent
    before any route runs (request limits, the HTTP server's own)."""
    return bytes(JSONResponse(error_body(error, description)).body)


def render(exc: AppError) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(exc.body(), exc.status_code, headers or None)


SCIM_PREFIX = "/scim/v2"
SCIM_MEDIA_TYPE = "application/scim+json"
SCIM_ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"


def scim_body(exc: AppError) -> dict[str, Any]:
    """RFC 7644 3.12's Error: the status as a string, ``scimType`` where one applies."""
    return scim_error_body(exc.status_code, exc.description, exc.scim_type)


def scim_error_body(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [SCIM_ERROR_URN], "status": str(status)}
    if scim_type is not None:
        body["scimType"] = scim_type
    body["detail"] = detail
    return body


def is_scim(path: str) -> bool:
    """Whether a request for ``path`` is answered by the SCIM service (and in SCIM's shape)."""
    return path == SCIM_PREFIX or path.startswith(SCIM_PREFIX + "/")


def error_bytes_at(path: str, status: int, error: str, description: str) -> tuple[bytes, str]:
    """``error_bytes`` for a refusal of a request for ``path`` (body, media type): a SCIM Error
    under ``/scim/v2``, where identity providers read nothing else."""
    if not is_scim(path):
        return error_bytes(error, description), JSON_CONTENT_TYPE
    return bytes(JSONResponse(scim_error_body(status, description)).body), SCIM_MEDIA_TYPE


def render_at(path: str, exc: AppError) -> JSONResponse:
    """The error answering a request for ``path``: a SCIM Error under ``/scim/v2``, the API's
    ErrorResponse anywhere else."""
    if not is_scim(path):
        return render(exc)
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="SCIM"')
    return JSONResponse(scim_body(exc), exc.status_code, headers or None, media_type=SCIM_MEDIA_TYPE)


JSON_CONTENT_TYPE = "application/json"


def content_type_problem(content_type: str | None) -> str | None:
    """Why a request body with this Content-Type is not taken as JSON, or None when it is."""
    if not content_type:
        return (
            f"The Content-Type header is missing: send the JSON body with Content-Type: {JSON_CONTENT_TYPE}"
        )
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON_CONTENT_TYPE or (media.startswith("application/") and media.endswith("+json")):
        return None
    return (
        f"Content-Type {media!r} is not accepted: the body must be JSON, "
        f"sent with Content-Type: {JSON_CONTENT_TYPE}"
    )


def _body_refused(request: Request, errors: Sequence[Any]) -> str | None:
    """A body FastAPI did not parse as JSON because of its Content-Type: say so, not its shape."""
    if not any(tuple(err.get("loc", ())) == ("body",) and err.get("type") != "missing" for err in errors):
        return None
    return content_type_problem(request.headers.get("content-type"))


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in {"body", "query", "path", "header"} else list(loc)
    return ".".join(str(p) for p in parts) or "body"


def describe_validation_error(errors: Sequence[Any]) -> str:
    """A one-line description naming every offending field."""
    messages: list[str] = []
    for err in errors:
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        if kind == "json_invalid":
            detail = err.get("ctx", {}).get("error", "invalid JSON")
            messages.append(f"Malformed JSON body: {detail}")
            continue
        if kind == "missing":
            where = "query parameter" if loc and loc[0] == "query" else "field"
            if loc == ("body",):
                messages.append("A JSON request body is required")
            else:
                messages.append(f"Missing required {where} '{_field_name(loc)}'")
            continue
        msg = str(err.get("msg", "invalid value"))
        if loc == ("body",):
            messages.append(f"Invalid request body: {msg}")
        else:
            messages.append(f"Invalid value for '{_field_name(loc)}': {msg}")
    return "; ".join(dict.fromkeys(messages)) or "Invalid request"


def _http_failure(exc: StarletteHTTPException) -> AppError:
    if exc.status_code == 404:
        return NotFound("No such resource")
    if exc.status_code == 405:
        allow = dict(exc.headers) if exc.headers else None
        return MethodNotAllowed("Method not allowed on this resource", headers=allow)
    if exc.status_code == 413:
        return PayloadTooLarge(str(exc.detail))
    failure = AppError(str(exc.detail))
    failure.status_code = exc.status_code
    failure.error = "invalid_request" if exc.status_code < 500 else "general_error"
    return failure


def install_error_handlers(app: FastAPI) -> None:
    async def app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return render_at(request.url.path, exc)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        refused = _body_refused(request, errors)
        if refused is not None and is_scim(request.url.path):
            return render_at(request.url.path, UnsupportedMediaType(refused))
        return render_at(request.url.path, InvalidRequest(refused or describe_validation_error(errors)))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return render_at(request.url.path, _http_failure(exc))

    async def client_disconnected(request: Request, _exc: Exception) -> Response:
        # The client's doing, not a fault: one line, no traceback, nothing written.
        route = getattr(request.scope.get("route"), "path_format", None) or "unmatched"
        fields = {
            "method": request.method,
            "route": route,
            "status": CLIENT_CLOSED_REQUEST,
            "request_id": request.scope.get("state", {}).get("request_id"),
        }
        log.info("client disconnected before its request was read", extra={"fields": fields})
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return render_at(request.url.path, AppError("General error"))

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ClientDisconnect, client_disconnected)
    app.add_exception_handler(Exception, unexpected_error)
