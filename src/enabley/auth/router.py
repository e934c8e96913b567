from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from enabley.admission import client_rate_exceeded, mark_issued
from enabley.auth import service
from enabley.auth.schemas import TokenRequest, TokenResponse
from enabley.deps import AppContext
from enabley.errors import InvalidClient, InvalidRequest, TooManyRequests
from enabley.observability import RATE_LIMITED
from enabley.ratelimit import client_address
from enabley.schemas import ERRORS

router = APIRouter(responses=ERRORS, prefix="/api", tags=["Authorization"])

MAX_CREDENTIAL_LENGTH = 512

_BODY_DOC: dict[str, Any] = {
    # Declared here rather than as parameters: this endpoint reads them itself (query first,
    # then a JSON body), and FastAPI's per-parameter handling costs more than issuing the token.
    "parameters": [
        {"name": "clientKey", "in": "query", "description": "clientKey", "schema": {"type": "string"}},
        {"name": "secret", "in": "query", "description": "secret", "schema": {"type": "string"}},
    ],
    "requestBody": {
        "required": False,
        "description": "Optional: the credentials as a JSON object, when not given in the query string.",
        "content": {"application/json": {"schema": TokenRequest.model_json_schema()}},
    },
}


@router.post(
    "/v1/token",
    summary="Token",
    response_model=TokenResponse,
    openapi_extra=_BODY_DOC,
)
async def token(request: Request) -> TokenResponse:
    """Authorization token generation"""
    context: AppContext = request.app.state.context
    client_key = _credential("clientKey", request.query_params.get("clientKey"))
    secret = _credential("secret", request.query_params.get("secret"))
    if client_key is None or secret is None:
        body = await _json_object(request)
        client_key = client_key or _credential("clientKey", body.get("clientKey"))
        secret = secret or _credential("secret", body.get("secret"))
    if client_key is None or secret is None:
        raise InvalidRequest("Missing required query parameters 'clientKey' and 'secret'")
    address = client_address(request.scope)
    wait = await context.limits.failures.blocked_for(client_key, address)
    if wait:
        RATE_LIMITED.labels("token").inc()
        raise TooManyRequests(
            f"Too many failed token requests; retry in {wait} s", headers={"Retry-After": str(wait)}
        )
    try:
        issued = await context.db.probe(
            service.issue_token, context.db, context.keyring, context.settings, client_key, secret
        )
    except InvalidClient:
        await context.limits.failures.record(client_key, address)
        raise
    # Only a client's own successful requests spend its budget: nobody else can use it up.
    decision = await context.limits.clients.hit(f"token:{client_key}")
    mark_issued(request.scope["state"], decision)
    if decision is not None and not decision.allowed:
        RATE_LIMITED.labels("api").inc()
        raise client_rate_exceeded(decision, context.settings.rate_limit)
    return issued


async def _json_object(request: Request) -> dict[str, Any]:
    """The body when it is a JSON object; anything else (empty, ``[]``, not JSON) counts as no body."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _credential(name: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    if len(value) > MAX_CREDENTIAL_LENGTH:
        raise InvalidRequest(f"'{name}' is longer than {MAX_CREDENTIAL_LENGTH} characters")
    return value
