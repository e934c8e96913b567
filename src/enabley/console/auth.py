"""Who is signed in to the console, and the door to their data: the same ``Tenant`` the API uses.

A console page reaches the database only through ``ConsoleTenant`` (``read``, ``write``, ``scan``,
``lookup``), whose check confirms, in the same transaction, that the session is still alive: a
console user deleted, or signed out in another tab, loses access on the very next request.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request
from sqlalchemy import Connection

from enabley.console import service
from enabley.db.fastquery import Reader
from enabley.deps import AppContext, Tenant
from enabley.errors import AccessDenied

COOKIE = "enabley_console"
LOGIN_COOKIE = "enabley_console_login"
"""The login form's own CSRF token (double-submit): there is no session to hold it yet."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 64 * 1024


class SignInRequired(Exception):
    """No live console session: a page redirects to the login form, a fetch answers 401."""


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


@dataclass(frozen=True, slots=True)
class ConsoleTenant(Tenant):
    """A console user's tenant: its account, through its session instead of an API client."""

    token_hash: str = field(default="", repr=False)
    sub_account_name: str | None = None

    def _ensure_active(self, reader: Reader | Connection) -> None:
        if isinstance(reader, Connection):
            reader = Reader(reader.dialect, reader.connection)
        if not service.still_signed_in(reader, self.token_hash):
            raise AccessDenied("The console session has ended")


@dataclass(frozen=True, slots=True)
class Console:
    """A console request's caller: the signed-in user and their tenant."""

    user: service.SignedIn
    tenant: ConsoleTenant
    context: AppContext


async def get_console(request: Request) -> Console:
    context: AppContext = request.app.state.context
    token = request.cookies.get(COOKIE)
    signed = await context.db.probe(_find, context, token) if token else None
    if signed is None:
        raise SignInRequired()
    tenant = ConsoleTenant(
        account_id=signed.account_id,
        client_id=-signed.user_id,
        client_key=f"console:{signed.user_id}",
        db=context.db,
        token_hash=signed.token_hash,
        sub_account_name=signed.sub_account_name,
    )
    request.scope["state"]["tenant"] = tenant
    return Console(user=signed, tenant=tenant, context=context)


def _find(context: AppContext, token: str) -> service.SignedIn | None:
    with context.db.read() as reader:
        return service.find_session(reader, token)


CurrentConsole = Annotated[Console, Depends(get_console)]


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form's fields (the first value of each)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise CsrfRefused()
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def tokens_match(sent: str | None, expected: str) -> bool:
    return sent is not None and hmac.compare_digest(sent.encode(), expected.encode())


async def checked_console(request: Request, console: CurrentConsole) -> Console:
    """The caller of a state-changing request, once its CSRF token (form field or header) matches."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        sent = (await read_form(request)).get(CSRF_FIELD)
    if not tokens_match(sent, console.user.csrf_token):
        raise CsrfRefused()
    return console


ChangingConsole = Annotated[Console, Depends(checked_console)]


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/console/login?next={quote(target, safe='')}"
