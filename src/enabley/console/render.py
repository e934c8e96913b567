"""Templates, cookies and the console's own answers to errors."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from enabley.console.auth import Console, CsrfRefused, SignInRequired, login_url
from enabley.deps import AppContext

templates = Environment(
    loader=PackageLoader("enabley.console", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

NAV = (
    ("overview", "/console", "Overview"),
    ("compliance", "/console/compliance", "Compliance"),
    ("organisation", "/console/organisation", "Organisation"),
    ("channels", "/console/channels", "Channels"),
    ("uploads", "/console/uploads", "Uploads"),
    ("webhooks", "/console/webhooks", "Webhooks"),
    ("scim", "/console/scim", "SCIM tokens"),
)


class PageError(Exception):
    """A console page that can't be shown (a 404 of the service under it): an HTML answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def page(
    request: Request,
    console: Console | None,
    name: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    html = templates.get_template(name).render(
        request=request, console=console, nav=NAV, csrf=console.user.csrf_token if console else "", **values
    )
    return HTMLResponse(html, status_code=status, headers={**_NO_STORE, **(headers or {})})


# Pages show a tenant's data: no cache keeps them after sign-out; no frame may embed them.
_NO_STORE = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}


def secure_cookies(context: AppContext) -> bool:
    return context.settings.public_base_url.lower().startswith("https://")


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def install_handlers(app: FastAPI) -> None:
    async def sign_in(request: Request, exc: Exception) -> Response:
        if _wants_json(request) or request.method != "GET":
            return JSONResponse({"error": "access_denied", "error_description": "Sign in first"}, 401)
        return RedirectResponse(login_url(request), status_code=303)

    async def csrf(request: Request, exc: Exception) -> Response:
        message = "The form was not sent with this session's CSRF token: reload the page and try again"
        if _wants_json(request):
            return JSONResponse({"error": "csrf_refused", "error_description": message}, 403)
        return page(request, None, "error.html", status=403, title="Refused", message=message)

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        if _wants_json(request):
            return JSONResponse({"error": "console_error", "error_description": exc.message}, exc.status)
        return page(
            request, None, "error.html", status=exc.status, title="Not available", message=exc.message
        )

    app.add_exception_handler(SignInRequired, sign_in)
    app.add_exception_handler(CsrfRefused, csrf)
    app.add_exception_handler(PageError, page_error)
