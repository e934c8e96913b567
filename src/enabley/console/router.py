"""The console's pages: each reads through the signed-in user's tenant, in one unit of work."""

from __future__ import annotations

import secrets
from urllib.parse import unquote

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from enabley.console import charts, figures, queries, service, uploads, webhooks
from enabley.console.auth import (
    COOKIE,
    CSRF_FIELD,
    LOGIN_COOKIE,
    ChangingConsole,
    CurrentConsole,
    read_form,
    tokens_match,
)
from enabley.console.door import read
from enabley.console.render import PageError, page, secure_cookies
from enabley.deps import AppContext
from enabley.ratelimit import client_address
from enabley.users.schemas import UserQuery

router = APIRouter(prefix="/console", include_in_schema=False)

USER_FILTERS = ("emailSubstring", "firstNameSubstring", "lastNameSubstring", "usernameSubstring")


@router.get("/login")
async def login_form(request: Request, next: str = "/console", failed: str = "") -> HTMLResponse:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    context: AppContext = request.app.state.context
    response = page(request, None, "login.html", login_csrf=token, next=_safe_next(next), failed=failed)
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies(context), path="/console"
    )
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    context: AppContext = request.app.state.context
    form = await read_form(request)
    if not tokens_match(form.get(CSRF_FIELD), request.cookies.get(LOGIN_COOKIE) or ""):
        from enabley.console.auth import CsrfRefused

        raise CsrfRefused()
    email, password = form.get("email", "")[:320], form.get("password", "")[:1024]
    target = _safe_next(form.get("next", "/console"))
    throttle_key, address = f"console:{service.fold_email(email)}", client_address(request.scope)
    wait = await context.limits.failures.blocked_for(throttle_key, address)
    if wait:
        return page(
            request,
            None,
            "login.html",
            status=429,
            login_csrf=form.get(CSRF_FIELD),
            next=target,
            failed=f"Too many failed sign-ins: try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    credentials = await context.db.probe(_credentials, context, email)
    user_id = await anyio.to_thread.run_sync(service.password_matches, credentials, password)
    if user_id is None:
        await context.limits.failures.record(throttle_key, address)
        return page(
            request,
            None,
            "login.html",
            status=401,
            login_csrf=form.get(CSRF_FIELD),
            next=target,
            failed="Wrong email or password",
        )
    token, _ = await context.db.run(lambda: _open(context, user_id))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=context.settings.console_session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(context),
        path="/console",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


def _credentials(context: AppContext, email: str) -> tuple[int, str] | None:
    with context.db.read() as reader:
        return service.find_credentials(reader, email)


def _open(context: AppContext, user_id: int) -> tuple[str, str]:
    with context.db.session(write=True) as session:
        return service.open_session(session, user_id, context.settings.console_session_hours)


def _safe_next(target: str) -> str:
    """Only a console path: a link can't send a fresh sign-in elsewhere."""
    target = unquote(target)
    return target if target.startswith("/console") and not target.startswith("//") else "/console"


@router.post("/logout")
async def logout(request: Request, console: ChangingConsole) -> Response:
    context = console.context
    token = request.cookies.get(COOKIE, "")
    await context.db.run(lambda: _close(context, token))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


def _close(context: AppContext, token: str) -> None:
    with context.db.session(write=True) as session:
        service.close_session(session, token)


@router.get("")
async def overview(request: Request, console: CurrentConsole, wait: bool = False) -> HTMLResponse:
    totals = await read(console, queries.totals)
    whole = console.tenant.sub_account_name is None
    health = await read(console, webhooks.delivery_health) if whole else None
    recent = await read(console, uploads.history, console.context.base_url, 5) if whole else None
    slow = await figures.figures(console) if wait else figures.cached(console)
    return page(
        request,
        console,
        "overview.html",
        active="overview",
        totals=totals,
        health=health,
        recent=recent,
        figures=slow,
        warning_days=console.context.settings.cert_expiry_warning_days,
    )


@router.get("/organisation")
async def organisation(request: Request, console: CurrentConsole, wait: bool = False) -> HTMLResponse:
    tree = await read(console, queries.group_tree)
    params = {
        k: v for k, v in request.query_params.items() if (k in USER_FILTERS or k == "paginationKey") and v
    }
    if console.tenant.sub_account_name is not None:
        params["subAccountName"] = console.tenant.sub_account_name
    try:
        query = UserQuery.model_validate(params)
    except ValidationError as exc:
        raise PageError(400, "; ".join(str(e["msg"]) for e in exc.errors())) from None
    walk = console.context.paginator.walk(
        query, account_id=console.tenant.account_id, endpoint="console/users"
    )
    users = await read(console, queries.search_users, walk)
    filters = {k: v for k, v in params.items() if k in USER_FILTERS}
    slow = await figures.figures(console) if wait else figures.cached(console)
    return page(
        request,
        console,
        "organisation.html",
        active="organisation",
        groups_tree=tree,
        figures=slow,
        users=users,
        filters=filters,
    )


@router.get("/groups/{identifier}")
async def group(request: Request, console: CurrentConsole, identifier: str) -> HTMLResponse:
    found = await read(console, queries.group_members, identifier)
    return page(request, console, "group.html", active="organisation", found=found)


@router.get("/users/{identifier}")
async def user(request: Request, console: CurrentConsole, identifier: str) -> HTMLResponse:
    found = await read(console, queries.user_page, console.context, identifier)
    return page(request, console, "user.html", active="organisation", found=found)


@router.get("/channels")
async def channels(request: Request, console: CurrentConsole, wait: bool = False) -> HTMLResponse:
    rows = await read(console, queries.channel_list)
    slow = await figures.figures(console) if wait else figures.cached(console)
    return page(request, console, "channels.html", active="channels", rows=rows, figures=slow)


@router.get("/channels/{identifier}")
async def channel(request: Request, console: CurrentConsole, identifier: str) -> HTMLResponse:
    found = await read(console, queries.channel_page, console.context.base_url, identifier)
    chart = charts.bar_chart("Learners by progress", found.bands, chart_id="progress-chart")
    return page(request, console, "channel.html", active="channels", found=found, chart=chart)
