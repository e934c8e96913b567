"""The lookup's ceiling: ``GET /api/v2/users/{identifier}`` written by hand as a raw ASGI app on the
standard library's ``sqlite3``, served by the same uvicorn settings as the server.

It does what the server's lookup does, with nothing around it: it reads the bearer token from the
``Authorization`` header, finds which API client it was issued to in a dict, runs the same single
statement (the user joined from the caller's active client, so a revoked client still finds
nothing, and the user's sub-account names), and answers the same JSON (``UserInfo``: camelCase
keys, timestamps as ``YYYY-MM-DDTHH:mm:ss.SSSZ``). ``POST /api/v1/token?clientKey=&secret=``
checks the secret against the stored HMAC, as the server does, and issues a random opaque token
kept in that dict: the cheapest sound check there is (no signature to verify per request).

SQLite only: ``ENABLEY_DATABASE_URL`` names the file (``sqlite:///path``), opened for queries only.
Run as ``uvicorn bench.raw_lookup:app``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from typing import Any
from urllib.parse import parse_qs

# The server's key for client-secret hashes (enabley.security): the hash of a secret is stored.
_SECRET_HASH_KEY = b"enabley.client-secret.v1"

_LOOKUP = (
    "SELECT u.id, u.external_id, u.email, u.first_name, u.last_name, u.username, u.phone,"
    " u.address, u.is_active, u.possible_roles, u.custom_attributes, u.created_at,"
    " u.modified_at, s.name"
    " FROM api_clients AS c"
    " LEFT JOIN users AS u ON u.account_id = c.account_id AND u.external_id = ?"
    " LEFT JOIN user_sub_accounts AS us ON us.user_id = u.id"
    " LEFT JOIN sub_accounts AS s ON s.id = us.sub_account_id"
    " WHERE c.client_key = ? AND c.revoked_at IS NULL"
)
_CLIENT = "SELECT secret_hash FROM api_clients WHERE client_key = ? AND revoked_at IS NULL"

_JSON = [(b"content-type", b"application/json")]
_PREFIX = "/api/v2/users/"

_tokens: dict[str, str] = {}  # access token -> client key
_db: list[sqlite3.Connection] = []


def _connect() -> sqlite3.Connection:
    url = os.environ["ENABLEY_DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        raise SystemExit(f"raw_lookup serves SQLite only, not {url}")
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute("PRAGMA query_only = ON")
    return conn


def _timestamp(stored: str) -> str:
    """SQLite's stored ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (UTC) as the API writes it."""
    fraction = stored[20:23] if len(stored) > 19 else ""
    return f"{stored[:10]}T{stored[11:19]}.{fraction.ljust(3, '0')}Z"


def _user(rows: list[tuple[Any, ...]]) -> bytes:
    row = rows[0]
    return json.dumps(
        {
            "address": row[7],
            "created": _timestamp(row[11]),
            "customAttributes": None if row[10] is None else json.loads(row[10]),
            "email": row[2],
            "firstName": row[3],
            "identifier": row[1],
            "isActive": bool(row[8]),
            "lastName": row[4],
            "modified": _timestamp(row[12]),
            "phone": row[6],
            "possibleRoles": json.loads(row[9]) if row[9] is not None else [],
            "userSubAccountNames": sorted(r[13] for r in rows if r[13] is not None),
            "username": row[5],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def _error(status: int, code: str, description: str) -> tuple[int, bytes]:
    body = {"error": code, "error_description": description}
    return status, json.dumps(body, separators=(",", ":")).encode()


def _lookup(scope: dict[str, Any]) -> tuple[int, bytes]:
    token = ""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer":
                token = ""
            break
    client_key = _tokens.get(token.strip())
    if client_key is None:
        return _error(401, "access_denied", "Missing or unknown bearer token")
    identifier = scope["path"][len(_PREFIX) :]
    rows = _db[0].execute(_LOOKUP, (identifier, client_key)).fetchall()
    if not rows:
        return _error(401, "access_denied", "The API client of this token has been revoked")
    if rows[0][0] is None:
        return _error(404, "not_found", f"User {identifier!r} not found")
    return 200, _user(rows)


def _token(scope: dict[str, Any]) -> tuple[int, bytes]:
    query = parse_qs(scope["query_string"].decode("latin-1"))
    client_key, secret = query.get("clientKey", [""])[0], query.get("secret", [""])[0]
    row = _db[0].execute(_CLIENT, (client_key,)).fetchone()
    candidate = hmac.new(_SECRET_HASH_KEY, secret.encode(), hashlib.sha256).hexdigest()
    if row is None or not hmac.compare_digest(candidate, row[0]):
        return _error(401, "invalid_client", "Invalid clientKey or secret")
    token = secrets.token_urlsafe(32)
    _tokens[token] = client_key
    return 200, json.dumps({"access_token": token, "token_type": "Bearer"}, separators=(",", ":")).encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            if message["type"] == "lifespan.startup":
                _db.append(_connect())
            await send({"type": "lifespan.startup.complete"})
        for conn in _db:
            conn.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    method, path = scope["method"], scope["path"]
    if method == "GET" and path.startswith(_PREFIX):
        status, body = _lookup(scope)
    elif method == "POST" and path == "/api/v1/token":
        status, body = _token(scope)
    elif method == "GET" and path == "/":
        status, body = 200, b'{"ok":true}'
    else:
        status, body = _error(404, "not_found", "No such route")
    headers = [*_JSON, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
