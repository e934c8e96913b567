"""The console's SCIM tokens page: the account's tokens, listed (the operator's CLI makes them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from enabley.console.auth import ConsoleTenant, CurrentConsole
from enabley.console.door import read
from enabley.console.render import PageError, page
from enabley.scim import tokens

router = APIRouter(prefix="/console", include_in_schema=False)


def account_tokens(session: Session, tenant: ConsoleTenant, account_name: str) -> list[tokens.TokenRow]:
    return tokens.list_tokens(session, account_name)


@router.get("/scim")
async def scim_tokens(request: Request, console: CurrentConsole) -> HTMLResponse:
    if console.tenant.sub_account_name is not None:
        raise PageError(404, "SCIM tokens belong to the whole account, not to a sub-account's console user")
    found = await read(console, account_tokens, console.user.account_name)
    return page(request, console, "scim.html", active="scim", tokens=found)
